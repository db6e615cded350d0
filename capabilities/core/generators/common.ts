import type { V1OwnerReference } from "@kubernetes/client-node";
import { APP_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../constants";
import type { Labels } from "../types";

/** Labels of every generated object; per-app objects also name their app (used for pruning). */
export const companionLabels = (app?: string): Labels =>
  app === undefined ? { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } : { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [APP_LABEL]: app };

/** The Deployment a per-app object belongs to; only known in the cluster (offline there is no uid). */
export interface Owner {
  name: string;
  uid: string;
}

export const ownerReferences = (owner: Owner | undefined): { ownerReferences?: V1OwnerReference[] } =>
  owner
    ? {
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "Deployment", name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true },
        ],
      }
    : {};

export const serviceHost = (app: string, namespace: string): string => `${app}.${namespace}.svc.cluster.local`;

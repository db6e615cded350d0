// Properties of the core over generated Deployments and annotations (fast-check).
import fc from "fast-check";
import { DEFAULT_CLUSTER_CONFIG, resolveNamespace } from "../../capabilities/core/config";
import { APPLIED_DEFAULTS_ANNOTATION, DA, KIND_LABEL, WORKLOAD_KINDS } from "../../capabilities/core/constants";
import { admitAmong, admitDeployment, render } from "../../capabilities/core/plan";
import { denials, formatProblem } from "../../capabilities/core/problems";
import type { KubeObject, V1Deployment } from "../../capabilities/core/types";
import { asStored } from "../../capabilities/core/testing";

const RECORD = APPLIED_DEFAULTS_ANNOTATION;
/** What Pepr writes on an object around a Mutate (`<module uuid>.pepr.dev/<capability>`). */
const PEPR_STATUS = "ai-workloads.pepr.dev/workload-admission";

const RUNS = { numRuns: 300, seed: 20261127 };

const dnsLabel = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);

/** Values a team would plausibly write, valid or not, for each Deployment annotation. */
const annotationValues: Record<string, fc.Arbitrary<string>> = {
  [DA.port]: fc.oneof(fc.integer({ min: 1, max: 65535 }).map(String), fc.constantFrom("0", "http", "70000")),
  [DA.expose]: fc.constantFrom("true", "false", "yes"),
  [DA.pathPrefix]: fc.oneof(
    dnsLabel,
    dnsLabel.map(s => `/x/${s}`),
    fc.constantFrom("/", "//bad", "a b"),
  ),
  [DA.publicPaths]: fc.constantFrom("none", "/docs", "/docs,/static/*", "*.js", "/a*b", ""),
  [DA.autoscale]: fc.constantFrom("off", "1-10", "2-3", "0-1", "5-2", "many"),
  [DA.autoscaleCpu]: fc.constantFrom("60", "1", "100", "0", "101"),
  [DA.infraProfile]: fc.constantFrom("default", "cpu-small", "cpu-medium", "gpu-small", "huge"),
  [DA.settingsConfigMap]: fc.oneof(dnsLabel, fc.constant("Bad_Name")),
  [DA.openaiBackend]: fc.oneof(
    dnsLabel,
    dnsLabel.map(s => `${s}:9000`),
    fc.constant("https://x.example.com/v1"),
    fc.constant("a:b:c"),
  ),
  [DA.upstream]: fc.oneof(
    dnsLabel,
    dnsLabel.map(s => `${s}:3080`),
    fc.constant("ftp://x"),
  ),
  [DA.oauth2Secret]: dnsLabel,
};

const validAnnotationValues: Record<string, fc.Arbitrary<string>> = {
  [DA.port]: fc
    .integer({ min: 1024, max: 9000 })
    .filter(n => n !== 8082)
    .map(String),
  [DA.expose]: fc.constantFrom("true", "false"),
  [DA.publicPaths]: fc.constantFrom("none", "/docs", "/docs,/static/*", "*.js"),
  [DA.autoscale]: fc.constantFrom("off", "1-10", "2-3"),
  [DA.autoscaleCpu]: fc.constantFrom("60", "80"),
  [DA.infraProfile]: fc.constantFrom("default", "cpu-small", "gpu-small"),
  [DA.upstream]: dnsLabel,
  [DA.oauth2Secret]: dnsLabel,
  [DA.openaiBackend]: dnsLabel,
};

const userContainer = fc.record(
  {
    name: dnsLabel,
    image: fc.constantFrom("img:1", "registry.example.com/app:2"),
    command: fc.array(fc.constantFrom("run", "--flag", "x"), { minLength: 1, maxLength: 3 }),
    args: fc.array(fc.constantFrom("--upstream=http://u:1", "--provider=github", "-v"), { minLength: 1, maxLength: 3 }),
    env: fc.array(fc.record({ name: fc.constantFrom("PORT", "HOST", "MONGO_URI", "OTHER"), value: fc.constantFrom("1", "x") }), {
      maxLength: 3,
    }),
    livenessProbe: fc.constant({ tcpSocket: { port: 1234 } }),
    resources: fc.constant({ requests: { cpu: "3" } }),
  },
  { requiredKeys: ["name", "image"] },
);

const deploymentOf = (
  name: string,
  kind: string,
  annotations: Record<string, string>,
  containers: object[],
  namespace = "team",
): V1Deployment =>
  ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { [KIND_LABEL]: kind }, annotations },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers } },
    },
  }) as V1Deployment;

const managedDeployment = (values: Record<string, fc.Arbitrary<string>>) =>
  fc
    .record({
      name: dnsLabel,
      kind: fc.constantFrom(...WORKLOAD_KINDS),
      annotations: fc.record(values, { requiredKeys: [] }),
      containers: fc.uniqueArray(userContainer, { minLength: 1, maxLength: 3, selector: c => c.name }),
    })
    .map(({ name, kind, annotations, containers }) => deploymentOf(name, kind, annotations as Record<string, string>, containers));

const ns = resolveNamespace(
  "team",
  { "ai-workloads.io/aad-tenant-id": "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01", "ai-workloads.io/host": "a.example.com" },
  DEFAULT_CLUSTER_CONFIG,
).settings;

/** Every leaf of `value` (by key path) with its value: what the user set. */
function leaves(value: unknown, path: string[] = []): [string[], unknown][] {
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [[path, value]];
}

const at = (root: unknown, path: string[]): unknown =>
  path.reduce<unknown>((o, k) => (o === null || typeof o !== "object" ? undefined : (o as Record<string, unknown>)[k]), root);

describe("properties of admission defaults", () => {
  it("mutating an already-mutated Deployment changes nothing", () => {
    fc.assert(
      fc.property(managedDeployment(annotationValues), d => {
        const once = admitDeployment(d, ns, DEFAULT_CLUSTER_CONFIG, []).mutated;
        const twice = admitDeployment(once, ns, DEFAULT_CLUSTER_CONFIG, []).mutated;
        expect(twice).toEqual(once);
      }),
      RUNS,
    );
  });

  it("never changes or removes a field the user set", () => {
    fc.assert(
      fc.property(managedDeployment(annotationValues), d => {
        const mutated = admitDeployment(d, ns, DEFAULT_CLUSTER_CONFIG, []).mutated;
        for (const [path, value] of leaves(d)) expect([path, at(mutated, path)]).toEqual([path, value]);
      }),
      RUNS,
    );
  });

  it("does not modify its input", () => {
    fc.assert(
      fc.property(managedDeployment(annotationValues), d => {
        const copy = structuredClone(d);
        admitDeployment(d, ns, DEFAULT_CLUSTER_CONFIG, []);
        expect(d).toEqual(copy);
      }),
      RUNS,
    );
  });
});

describe("properties of render", () => {
  const unlabelled = fc
    .record({ name: dnsLabel, containers: fc.uniqueArray(userContainer, { minLength: 1, maxLength: 2, selector: c => c.name }) })
    .map(
      ({ name, containers }) =>
        ({
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name, namespace: "team", labels: { app: name }, annotations: { [DA.port]: "x" } },
          spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers } } },
        }) as KubeObject,
    );

  it("passes unlabelled Deployments through unchanged and generates nothing for them", () => {
    fc.assert(
      fc.property(fc.uniqueArray(unlabelled, { maxLength: 4, selector: d => d.metadata?.name }), input => {
        const result = render(input, { defaultNamespace: "default" });
        expect(result.problems).toEqual([]);
        expect(result.objects).toEqual(input);
      }),
      RUNS,
    );
  });

  it("generates the same objects whatever the order of the input", () => {
    const workloads = fc.uniqueArray(managedDeployment(validAnnotationValues), {
      minLength: 1,
      maxLength: 5,
      selector: d => d.metadata?.name,
    });
    fc.assert(
      fc.property(workloads, fc.infiniteStream(fc.nat()), (input, randoms) => {
        const shuffled = [...input]
          .map(d => ({ d, k: randoms.next().value }))
          .sort((a, b) => a.k - b.k)
          .map(x => x.d);
        const a = render(input as KubeObject[], { defaultNamespace: "default" });
        const b = render(shuffled as KubeObject[], { defaultNamespace: "default" });
        expect(denials(a.problems).length > 0).toBe(denials(b.problems).length > 0);
        if (denials(a.problems).length === 0) expect(b.objects.slice(input.length)).toEqual(a.objects.slice(input.length));
      }),
      RUNS,
    );
  });

  it("turns any annotation value into a result or a one-line §6.3 denial, never an exception", () => {
    const anyValue = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }), fc.string({ maxLength: 2000 }));
    const keys = [...Object.values(DA), "ai-workloads.io/unknown"];
    const input = fc.record({
      name: dnsLabel,
      kind: fc.oneof(fc.constantFrom(...WORKLOAD_KINDS), fc.string({ maxLength: 12 })),
      annotations: fc.dictionary(fc.constantFrom(...keys), anyValue),
      nsAnnotations: fc.dictionary(
        fc.constantFrom(
          "ai-workloads.io/host",
          "ai-workloads.io/gateway",
          "ai-workloads.io/base-path",
          "ai-workloads.io/aad-tenant-id",
          "ai-workloads.io/aad-audience",
          "ai-workloads.io/require-jwt",
          "ai-workloads.io/bogus",
        ),
        anyValue,
      ),
    });
    const line = /^(warning: )?[^\n/]+\/[^\n:]*: [^\n]+: [^\n]+; [^\n]+$/;
    fc.assert(
      fc.property(input, ({ name, kind, annotations, nsAnnotations }) => {
        const objects = [
          { apiVersion: "v1", kind: "Namespace", metadata: { name: "team", annotations: nsAnnotations } },
          deploymentOf(name, kind, annotations, [{ name: "main", image: "x" }]) as KubeObject,
        ];
        const result = render(objects, { defaultNamespace: "default" });
        for (const p of result.problems) expect(formatProblem(p)).toMatch(line);
      }),
      RUNS,
    );
  });
});

describe("properties of the applied-defaults record (SPEC §12.1)", () => {
  // A profile whose quantities the API server stores in another form ("0.5" → "500m", "1024Mi" → "1Gi").
  const config = {
    ...DEFAULT_CLUSTER_CONFIG,
    infraProfiles: { ...DEFAULT_CLUSTER_CONFIG.infraProfiles, half: { resources: { requests: { cpu: "0.5", memory: "1024Mi" } } } },
  };
  const annotationSets = fc.record(
    {
      ...validAnnotationValues,
      [DA.infraProfile]: fc.constantFrom("default", "cpu-small", "gpu-small", "half"),
      [DA.settingsConfigMap]: dnsLabel,
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<Record<string, string>>;
  const containers = fc.uniqueArray(
    fc.record(
      {
        name: dnsLabel,
        image: fc.constant("img:1"),
        env: fc.uniqueArray(fc.record({ name: fc.constantFrom("MONGO_URI", "OTHER", "OAUTH2_PROXY_CLIENT_ID"), value: fc.constant("x") }), {
          maxLength: 2,
          selector: e => e.name,
        }),
        ports: fc.constant([{ containerPort: 9100, name: "extra" }]),
        resources: fc.constant({ limits: { memory: "3Gi" } }),
      },
      { requiredKeys: ["name", "image"] },
    ),
    { minLength: 1, maxLength: 2, selector: c => c.name },
  );
  const workload = fc.record({ kind: fc.constantFrom(...WORKLOAD_KINDS), containers, a: annotationSets, b: annotationSets });

  const admit = (d: V1Deployment) => admitDeployment(d, ns, config, []);
  const fresh = (kind: string, annotations: Record<string, string>, cs: object[]) => admit(deploymentOf("app", kind, annotations, cs));
  const admitted = (kind: string, annotations: Record<string, string>, cs: object[]) => {
    const result = fresh(kind, annotations, cs);
    return denials(result.problems).length === 0 ? result.mutated : undefined;
  };
  /** The stored object with other annotations and its record, as client-side apply sends it. */
  const reannotated = (stored: V1Deployment, annotations: Record<string, string>): V1Deployment => ({
    ...stored,
    metadata: { ...stored.metadata, annotations: { ...annotations, [RECORD]: stored.metadata!.annotations![RECORD] } },
  });
  /** Lists in a fixed order and the record parsed: the order of re-filled items is not part of the contract. */
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical).sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
    if (value !== null && typeof value === "object")
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, k === RECORD ? canonical(JSON.parse(v as string)) : canonical(v)]),
      );
    return value;
  };

  it("admitting a Deployment admitted under A after changing to B gives what a fresh Deployment with B gets", () => {
    fc.assert(
      fc.property(workload, ({ kind, containers: cs, a, b }) => {
        const underA = admitted(kind, a, cs);
        const underB = admitted(kind, b, cs);
        fc.pre(underA !== undefined && underB !== undefined);
        const changed = admit(reannotated(asStored(underA!), b)).mutated;
        expect(canonical(asStored(changed))).toEqual(canonical(asStored(underB!)));
      }),
      RUNS,
    );
  });

  it("a user's edit of any filled field survives any later annotation change", () => {
    fc.assert(
      fc.property(workload, fc.nat(), ({ kind, containers: cs, a, b }, pick) => {
        const underA = admitted(kind, a, cs);
        fc.pre(underA !== undefined && admitted(kind, b, cs) !== undefined);
        const stored = asStored(underA!);
        const c = stored.spec!.template.spec!.containers[0];
        // The user edits one env value or one probe the module filled.
        const record = JSON.parse(stored.metadata!.annotations![RECORD]);
        const filledEnv: string[] = (record.env ?? [])
          .filter((e: { value?: string }) => e.value !== undefined)
          .map((e: { name: string }) => e.name);
        const filledProbes = ["livenessProbe", "readinessProbe", "startupProbe"].filter(p => record[p] !== undefined) as (
          | "livenessProbe"
          | "readinessProbe"
          | "startupProbe"
        )[];
        const choices = [...filledEnv.map(n => ({ env: n })), ...filledProbes.map(p => ({ probe: p }))];
        fc.pre(choices.length > 0 && record.container === c.name);
        const choice = choices[pick % choices.length];
        if ("env" in choice) c.env!.find(e => e.name === choice.env)!.value = "users-own";
        else c[choice.probe]!.timeoutSeconds = 29;
        const after = admit(reannotated(stored, b)).mutated.spec!.template.spec!.containers[0];
        if ("env" in choice) expect(after.env!.find(e => e.name === choice.env)?.value).toBe("users-own");
        else expect(after[choice.probe]?.timeoutSeconds).toBe(29);
      }),
      RUNS,
    );
  });

  it("judging without building the record (Validate) finds exactly the problems of judging with it (Mutate)", () => {
    fc.assert(
      fc.property(workload, ({ kind, containers: cs, a, b }) => {
        const first = deploymentOf("app", kind, a, cs);
        const underA = admitted(kind, a, cs);
        // A fresh Deployment, and a stored one whose annotations change (its record is read and undone).
        for (const d of underA ? [first, reannotated(asStored(underA), b)] : [first]) {
          const withRecord = admitAmong(d, ns, config, []);
          const problemsOnly = admitAmong(d, ns, config, [], { record: false });
          expect(problemsOnly.problems.map(formatProblem)).toEqual(withRecord.problems.map(formatProblem));
          expect(problemsOnly.mutated.metadata?.annotations?.[RECORD]).toBe(d.metadata?.annotations?.[RECORD]);
          // Pepr writes its status annotation around Mutate and the API server raises the
          // generation before Validate; Validate may reuse Mutate's problems across both
          // (capabilities/admission-reuse.ts), so no problem may depend on either.
          for (const [status, generation] of [
            ["started", 1],
            ["succeeded", 2],
          ] as const) {
            const marked = {
              ...d,
              metadata: { ...d.metadata, generation, annotations: { ...d.metadata?.annotations, [PEPR_STATUS]: status } },
            };
            expect(admitAmong(marked, ns, config, [], { record: false }).problems.map(formatProblem)).toEqual(
              withRecord.problems.map(formatProblem),
            );
          }
        }
      }),
      RUNS,
    );
  });

  it("is idempotent with the record: admitting the stored result again gives no change", () => {
    fc.assert(
      fc.property(workload, ({ kind, containers: cs, a }) => {
        const once = admitted(kind, a, cs);
        fc.pre(once !== undefined);
        const stored = asStored(once!);
        expect(admit(stored).mutated).toEqual(stored);
      }),
      RUNS,
    );
  });
});

#!/usr/bin/env node
// Post-processes `pepr build` output: splits Pepr's single mutating and single validating
// webhook into one webhook per selected resource, so that only what the module must see
// depends on it (SPEC §2, §6.4):
//
//   deployments  objectSelector ai-workloads.io/kind Exists, failurePolicy from the module
//                config (onError: reject -> Fail): labelled Deployments fail closed.
//   namespaces   validating only, failurePolicy Ignore, matchConditions: only a Namespace
//                carrying an ai-workloads.io/* annotation is sent to the module.
//   config       validating only, failurePolicy Ignore, matchConditions: only a ConfigMap
//                named ai-workloads-config is sent to the module.
//
// Pepr 1.1.4 emits one webhook per configuration with no objectSelector, so without this every
// Deployment, Namespace and ConfigMap write in the cluster would wait on (and, with
// failurePolicy Fail, be refused without) the module.
//
// Rewrites, in <dist> (default: dist):
//   pepr-module-<uuid>.yaml                     the two webhook configuration documents only;
//                                               every other document is left byte for byte
//   <uuid>-chart/templates/mutation-webhook.yaml    regenerated from the same definitions, with
//   <uuid>-chart/templates/validation-webhook.yaml  the Helm values Pepr's templates use
//
// The Helm templates are regenerated rather than edited: Pepr 1.1.4 builds them by plain string
// replacement, which also rewrites any "10" (the webhook timeout) inside the caBundle and the
// API path, corrupting both. Here the values are placed by field.
//
// A binding on any other resource makes this script fail: add it to SELECTION below, with a
// selector that keeps unrelated writes away from the module.
//
// Usage: node hack/postbuild.mjs [dist]      (npm run build = pepr build && node hack/postbuild.mjs)
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDocument, stringify } from "yaml";

const KIND_LABEL = "ai-workloads.io/kind";
const ANNOTATION_PREFIX = "ai-workloads.io/";
const CONFIG_MAP_NAME = "ai-workloads-config";

/**
 * One webhook per selected resource. `failurePolicy: "module"` keeps what Pepr derived from the
 * module's `onError`; the others are fixed. Operations always come from Pepr's rules.
 * matchConditions are CEL (GA since Kubernetes 1.30); an expression that errors follows the
 * failurePolicy, so every field is guarded with has(). The rules hold only CREATE and UPDATE, where
 * `object` is never null; the `object != null` guards keep the conditions right if DELETE
 * (where only oldObject is set) is ever added to a binding.
 */
export const SELECTION = [
  {
    id: "deployments",
    group: "apps",
    resource: "deployments",
    failurePolicy: "module",
    objectSelector: { matchExpressions: [{ key: KIND_LABEL, operator: "Exists" }] },
  },
  {
    id: "namespaces",
    group: "",
    resource: "namespaces",
    failurePolicy: "Ignore",
    matchConditions: [
      {
        name: "has-ai-workloads-annotation",
        expression: `object != null && has(object.metadata.annotations) && object.metadata.annotations.exists(k, k.startsWith("${ANNOTATION_PREFIX}"))`,
      },
    ],
  },
  {
    id: "config",
    group: "",
    resource: "configmaps",
    failurePolicy: "Ignore",
    matchConditions: [
      {
        name: "is-ai-workloads-config",
        expression: `object != null && has(object.metadata.name) && object.metadata.name == "${CONFIG_MAP_NAME}"`,
      },
    ],
  },
];

const WEBHOOK_KINDS = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];
const SEPARATOR = "\n---\n";

const fail = msg => {
  throw new Error(`postbuild: ${msg}`);
};

/** The webhook name for a selection entry: `<id>.<configuration name>.pepr.dev`. */
export const webhookName = (id, configName) => `${id}.${configName}.pepr.dev`;

const selectionFor = rule => {
  const group = rule.apiGroups?.[0] ?? "";
  const resources = rule.resources ?? [];
  if ((rule.apiGroups ?? []).length !== 1 || resources.length !== 1) {
    fail(`expected one apiGroup and one resource per Pepr rule, got ${JSON.stringify(rule)}`);
  }
  const entry = SELECTION.find(s => s.group === group && s.resource === resources[0]);
  if (!entry) {
    fail(
      `the module binds ${group || "core"}/${resources[0]}, which hack/postbuild.mjs does not select; ` +
        "add it to SELECTION with an objectSelector or matchConditions so unrelated writes do not depend on the module",
    );
  }
  return entry;
};

/** Splits one webhook configuration (a plain object) into one webhook per selected resource. */
export function splitWebhookConfiguration(config) {
  const webhooks = config.webhooks ?? [];
  if (webhooks.length === 0) fail(`${config.kind} ${config.metadata?.name} has no webhooks`);
  const name = config.metadata.name;
  const already = webhooks.every(w => SELECTION.some(s => w.name === webhookName(s.id, name)));
  if (!already && webhooks.length !== 1) {
    // Pepr adds webhooks only for `additionalWebhooks` (per-namespace failure policies); splitting
    // those too would need their namespaceSelector kept apart.
    fail(`${config.kind} ${name} has ${webhooks.length} webhooks; hack/postbuild.mjs expects Pepr's one (additionalWebhooks is not supported)`);
  }
  // Everything below is derived from the first webhook and the union of the rules, so a second
  // run over processed output yields the same result.
  const base = webhooks[0];
  const moduleFailurePolicy = already
    ? (webhooks.find(w => w.name === webhookName("deployments", name))?.failurePolicy ?? base.failurePolicy)
    : base.failurePolicy;
  const rulesBySelection = new Map();
  for (const w of webhooks) {
    for (const rule of w.rules ?? []) {
      const entry = selectionFor(rule);
      const list = rulesBySelection.get(entry.id) ?? [];
      if (!list.some(r => JSON.stringify(r) === JSON.stringify(rule))) list.push(rule);
      rulesBySelection.set(entry.id, list);
    }
  }
  const split = SELECTION.filter(s => rulesBySelection.has(s.id)).map(s => {
    const webhook = {
      name: webhookName(s.id, name),
      admissionReviewVersions: base.admissionReviewVersions,
      clientConfig: base.clientConfig,
      failurePolicy: s.failurePolicy === "module" ? moduleFailurePolicy : s.failurePolicy,
      matchPolicy: base.matchPolicy,
      namespaceSelector: base.namespaceSelector,
    };
    if (s.objectSelector) webhook.objectSelector = s.objectSelector;
    webhook.rules = rulesBySelection.get(s.id);
    if (s.matchConditions) webhook.matchConditions = s.matchConditions;
    webhook.sideEffects = base.sideEffects;
    webhook.timeoutSeconds = base.timeoutSeconds;
    return webhook;
  });
  return { ...config, webhooks: split };
}

const toYaml = obj => stringify(obj, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });

// Plain-scalar placeholders, replaced by Helm expressions after the YAML is written.
const TOKENS = {
  UUID: "HELM_TOKEN_UUID",
  FAILURE_POLICY: "HELM_TOKEN_FAILURE_POLICY",
  TIMEOUT: "HELM_TOKEN_TIMEOUT",
  IGNORED: "HELM_TOKEN_ADDITIONAL_IGNORED",
};

/**
 * The Helm template of one processed webhook configuration, using the values Pepr's chart
 * defines: uuid, admission.failurePolicy (fail-closed webhooks only), admission.webhookTimeout
 * and additionalIgnoredNamespaces.
 */
export function helmTemplate(config) {
  const name = config.metadata.name;
  const moduleFailurePolicy = config.webhooks.find(w => w.name === webhookName("deployments", name))?.failurePolicy;
  const templ = {
    ...config,
    metadata: { ...config.metadata, name: TOKENS.UUID },
    webhooks: config.webhooks.map(w => {
      const id = SELECTION.find(s => w.name === webhookName(s.id, name))?.id;
      const entry = SELECTION.find(s => s.id === id);
      const clientConfig = { ...w.clientConfig };
      if (clientConfig.service) clientConfig.service = { ...clientConfig.service, name: TOKENS.UUID };
      const expressions = (w.namespaceSelector?.matchExpressions ?? []).map(e =>
        e.key === "kubernetes.io/metadata.name" && e.operator === "NotIn" ? { ...e, values: [...e.values, TOKENS.IGNORED] } : e,
      );
      return {
        ...w,
        name: webhookName(id, TOKENS.UUID),
        clientConfig,
        failurePolicy: entry.failurePolicy === "module" && w.failurePolicy === moduleFailurePolicy ? TOKENS.FAILURE_POLICY : w.failurePolicy,
        namespaceSelector: { ...w.namespaceSelector, matchExpressions: expressions },
        timeoutSeconds: TOKENS.TIMEOUT,
      };
    }),
  };
  let text = toYaml(templ)
    .replaceAll(TOKENS.UUID, "{{ .Values.uuid }}")
    .replaceAll(TOKENS.FAILURE_POLICY, "{{ .Values.admission.failurePolicy }}")
    .replaceAll(TOKENS.TIMEOUT, "{{ .Values.admission.webhookTimeout }}")
    .replace(new RegExp(`^( *)- ${TOKENS.IGNORED}$`, "gm"), (_, indent) =>
      [`${indent}{{- range .Values.additionalIgnoredNamespaces }}`, `${indent}- {{ . }}`, `${indent}{{- end }}`].join("\n"),
    );
  if (/HELM_TOKEN_/.test(text)) fail("a Helm placeholder was left in a template");
  return text;
}

/** Splits the webhook documents of a `pepr-module-*.yaml` text; other documents are kept as they are. */
export function processManifest(text) {
  const trailing = text.endsWith("\n") ? "\n" : "";
  const docs = text.replace(/\n$/, "").split(SEPARATOR);
  const configs = {};
  const out = docs.map(doc => {
    const parsed = parseDocument(doc);
    const obj = parsed.toJS();
    if (!obj || !WEBHOOK_KINDS.includes(obj.kind)) return doc;
    const processed = splitWebhookConfiguration(obj);
    configs[obj.kind] = processed;
    return toYaml(processed).replace(/\n$/, "");
  });
  return { text: out.join(SEPARATOR) + trailing, configs };
}

function moduleUuid(root) {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const uuid = pkg.pepr?.uuid;
  if (!uuid) fail("package.json has no pepr.uuid");
  return uuid;
}

export function postbuild(dist, root = process.cwd()) {
  const uuid = moduleUuid(root);
  const manifestPath = join(dist, `pepr-module-${uuid}.yaml`);
  if (!existsSync(manifestPath)) fail(`${manifestPath} not found: run pepr build first`);
  const { text, configs } = processManifest(readFileSync(manifestPath, "utf8"));
  writeFileSync(manifestPath, text);
  const written = [manifestPath];

  const templates = join(dist, `${uuid}-chart`, "templates");
  const chartFiles = {
    MutatingWebhookConfiguration: join(templates, "mutation-webhook.yaml"),
    ValidatingWebhookConfiguration: join(templates, "validation-webhook.yaml"),
  };
  for (const [kind, file] of Object.entries(chartFiles)) {
    const config = configs[kind];
    if (!config) {
      if (existsSync(file)) fail(`${file} exists but ${manifestPath} has no ${kind}`);
      continue;
    }
    if (!existsSync(file)) fail(`${file} not found (the manifest has a ${kind})`);
    // Both come from one Assets object in one build; a different API path means a stale chart.
    const path = config.webhooks[0].clientConfig.service?.path ?? "";
    const values = parseDocument(readFileSync(join(templates, "..", "values.yaml"), "utf8")).toJS();
    const chartApiPath = Buffer.from(values?.secrets?.apiPath ?? "", "base64").toString();
    if (path.split("/").pop() !== chartApiPath) {
      fail(`${file} does not belong to the same build as ${manifestPath} (API path differs)`);
    }
    writeFileSync(file, helmTemplate(config));
    written.push(file);
  }
  return { written, configs };
}

const invokedAsScript = process.argv[1] && resolve(process.argv[1]).endsWith(join("hack", "postbuild.mjs"));
if (invokedAsScript) {
  try {
    const dist = resolve(process.argv[2] ?? "dist");
    const { written, configs } = postbuild(dist);
    for (const config of Object.values(configs)) {
      const list = config.webhooks.map(w => `${w.name} (${w.failurePolicy})`).join(", ");
      console.log(`postbuild: ${config.kind} ${config.metadata.name}: ${list}`);
    }
    console.log(`postbuild: wrote ${written.map(f => f.replace(`${process.cwd()}/`, "")).join(", ")}`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}

// Bad input for the admission fuzz and the CLI fuzz: the same generators drive both.
import fc from "fast-check";
import { DA, KIND_LABEL, NA } from "../../capabilities/core/constants";

const anyText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("", " ", "\u0000", "\n", "\t\r", "‮evil", "😀", "../..", "${x}", "%s%n", "'; DROP TABLE", "a".repeat(300)),
);

const annotationValue = fc.oneof(
  anyText,
  fc.constantFrom("true", "false", "off", "1-10", "0-0", "99999999-1", "/docs", "none", "*", "svc:0", "http://", "8000"),
);

const allKeys = [...Object.values(DA), ...Object.values(NA), "ai-workloads.io/", "ai-workloads.io/x"];

export const annotations = fc.dictionary(fc.oneof(fc.constantFrom(...allKeys), anyText), annotationValue, { maxKeys: 12 });

const container = fc.record(
  {
    name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), anyText),
    image: fc.oneof(fc.constant("img:1"), anyText),
    command: fc.array(anyText, { maxLength: 3 }),
    args: fc.array(fc.oneof(anyText, fc.constantFrom("--upstream", "--client-secret=x", "--cookie-secret", "-provider=oidc")), { maxLength: 4 }),
    env: fc.array(fc.record({ name: fc.oneof(anyText, fc.constantFrom("PORT", "OAUTH2_PROXY_CLIENT_SECRET")), value: anyText }), { maxLength: 3 }),
    ports: fc.array(fc.record({ containerPort: fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.constant(8000)), name: fc.option(anyText, { nil: undefined }) }), { maxLength: 3 }),
  },
  { requiredKeys: ["name"] },
);

/** A Deployment-shaped object, often wrong: missing parts, wrong types, odd strings. */
export const deploymentish = fc.record(
  {
    apiVersion: fc.oneof(fc.constant("apps/v1"), anyText),
    kind: fc.oneof(fc.constant("Deployment"), anyText),
    metadata: fc.record(
      {
        name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), anyText),
        namespace: fc.oneof(fc.constant("team"), anyText),
        labels: fc.oneof(fc.constant({ [KIND_LABEL]: "mlserver" }), fc.dictionary(fc.constantFrom(KIND_LABEL, "app"), anyText)),
        annotations,
      },
      { requiredKeys: [] },
    ),
    spec: fc.oneof(
      fc.record({
        selector: fc.oneof(fc.constant({ matchLabels: { app: "x" } }), fc.constant({}), fc.constant({ matchLabels: {} })),
        template: fc.record({
          metadata: fc.constant({ labels: { app: "x" } }),
          spec: fc.record({ containers: fc.oneof(fc.array(container, { maxLength: 3 }), fc.array(container, { minLength: 100, maxLength: 100 })) }),
        }),
      }),
      fc.constantFrom(null, "spec", 42, [], {}),
    ),
  },
  { requiredKeys: ["apiVersion", "kind"] },
);

/** A value of any JSON type, for fields that should hold something else. */
const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }), fc.string({ maxLength: 5 }));

/** A plausible Deployment with one field somewhere replaced by a value of the wrong type. */
export const wrongTypedDeployment = fc
  .record({
    path: fc.constantFrom(
      ["metadata"], ["metadata", "name"], ["metadata", "labels"], ["metadata", "labels", KIND_LABEL], ["metadata", "annotations"],
      ["metadata", "annotations", DA.port], ["metadata", "annotations", DA.publicPaths], ["metadata", "annotations", DA.upstream],
      ["spec"], ["spec", "selector"], ["spec", "selector", "matchLabels"], ["spec", "template"], ["spec", "template", "metadata"],
      ["spec", "template", "metadata", "labels"], ["spec", "template", "spec"], ["spec", "template", "spec", "containers"],
      ["spec", "template", "spec", "containers", "0"], ["spec", "template", "spec", "containers", "0", "name"],
      ["spec", "template", "spec", "containers", "0", "command"], ["spec", "template", "spec", "containers", "0", "args"],
      ["spec", "template", "spec", "containers", "0", "env"], ["spec", "template", "spec", "containers", "0", "ports"],
      ["spec", "template", "spec", "containers", "0", "volumeMounts"], ["spec", "template", "spec", "containers", "0", "resources"],
      ["spec", "template", "spec", "volumes"], ["spec", "template", "spec", "nodeSelector"], ["spec", "template", "spec", "tolerations"],
      ["spec", "template", "spec", "affinity"],
    ),
    value: wrongType,
    kind: fc.constantFrom("mlserver", "librechat", "oauth2-proxy"),
  })
  .map(({ path, value, kind }) => {
    const d: Record<string, unknown> = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "m", namespace: "team", labels: { [KIND_LABEL]: kind }, annotations: { [DA.port]: "8000", [DA.publicPaths]: "/docs", [DA.upstream]: "up", [DA.oauth2Secret]: "s" } },
      spec: {
        selector: { matchLabels: { app: "m" } },
        template: {
          metadata: { labels: { app: "m" } },
          spec: { containers: [{ name: "c", image: "i", command: ["x"], args: ["--a"], env: [{ name: "E", value: "v" }], ports: [{ containerPort: 8000 }], volumeMounts: [{ name: "v", mountPath: "/v" }], resources: {} }], volumes: [], nodeSelector: {}, tolerations: [], affinity: {} },
        },
      },
    };
    let at: Record<string, unknown> = d;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path[path.length - 1]] = value;
    return d;
  });

/** Raw manifest text: valid objects, broken YAML, JSON, control characters. */
export const manifestText = fc.oneof(
  fc.array(deploymentish, { maxLength: 3 }).map(ds => ds.map(d => JSON.stringify(d)).join("\n---\n")),
  wrongTypedDeployment.map(d => JSON.stringify(d)),
  fc.constantFrom("", "---", "--- !!binary x", "a: [", "{", "kind: List\napiVersion: v1\nitems: [1, 2]", "- a\n- b", "? x\n: y", "&a [*a]", "!!js/function x", "a: *b"),
  anyText,
);

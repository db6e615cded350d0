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
    args: fc.array(fc.oneof(anyText, fc.constantFrom("--upstream", "--client-secret=x", "--cookie-secret", "-provider=oidc")), {
      maxLength: 4,
    }),
    env: fc.array(fc.record({ name: fc.oneof(anyText, fc.constantFrom("PORT", "OAUTH2_PROXY_CLIENT_SECRET")), value: anyText }), {
      maxLength: 3,
    }),
    ports: fc.array(
      fc.record({
        containerPort: fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.constant(8000)),
        name: fc.option(anyText, { nil: undefined }),
      }),
      { maxLength: 3 },
    ),
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
          spec: fc.record({
            containers: fc.oneof(fc.array(container, { maxLength: 3 }), fc.array(container, { minLength: 100, maxLength: 100 })),
          }),
        }),
      }),
      fc.constantFrom(null, "spec", 42, [], {}),
    ),
  },
  { requiredKeys: ["apiVersion", "kind"] },
);

/** A value of any JSON type, for fields that should hold something else. */
const wrongType = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
  fc.string({ maxLength: 5 }),
);

/** A plausible Deployment with one field somewhere replaced by a value of the wrong type. */
export const wrongTypedDeployment = fc
  .record({
    path: fc.constantFrom(
      ["metadata"],
      ["metadata", "name"],
      ["metadata", "labels"],
      ["metadata", "labels", KIND_LABEL],
      ["metadata", "annotations"],
      ["metadata", "annotations", DA.port],
      ["metadata", "annotations", DA.publicPaths],
      ["metadata", "annotations", DA.upstream],
      ["spec"],
      ["spec", "selector"],
      ["spec", "selector", "matchLabels"],
      ["spec", "template"],
      ["spec", "template", "metadata"],
      ["spec", "template", "metadata", "labels"],
      ["spec", "template", "spec"],
      ["spec", "template", "spec", "containers"],
      ["spec", "template", "spec", "containers", "0"],
      ["spec", "template", "spec", "containers", "0", "name"],
      ["spec", "template", "spec", "containers", "0", "command"],
      ["spec", "template", "spec", "containers", "0", "args"],
      ["spec", "template", "spec", "containers", "0", "env"],
      ["spec", "template", "spec", "containers", "0", "ports"],
      ["spec", "template", "spec", "containers", "0", "volumeMounts"],
      ["spec", "template", "spec", "containers", "0", "resources"],
      ["spec", "template", "spec", "volumes"],
      ["spec", "template", "spec", "nodeSelector"],
      ["spec", "template", "spec", "tolerations"],
      ["spec", "template", "spec", "affinity"],
    ),
    value: wrongType,
    kind: fc.constantFrom("mlserver", "librechat", "oauth2-proxy"),
  })
  .map(({ path, value, kind }) => {
    const d: Record<string, unknown> = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "m",
        namespace: "team",
        labels: { [KIND_LABEL]: kind },
        annotations: { [DA.port]: "8000", [DA.publicPaths]: "/docs", [DA.upstream]: "up", [DA.oauth2Secret]: "s" },
      },
      spec: {
        selector: { matchLabels: { app: "m" } },
        template: {
          metadata: { labels: { app: "m" } },
          spec: {
            containers: [
              {
                name: "c",
                image: "i",
                command: ["x"],
                args: ["--a"],
                env: [{ name: "E", value: "v" }],
                ports: [{ containerPort: 8000 }],
                volumeMounts: [{ name: "v", mountPath: "/v" }],
                resources: {},
              },
            ],
            volumes: [],
            nodeSelector: {},
            tolerations: [],
            affinity: {},
          },
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
  fc.constantFrom(
    "",
    "---",
    "--- !!binary x",
    "a: [",
    "{",
    "kind: List\napiVersion: v1\nitems: [1, 2]",
    "- a\n- b",
    "? x\n: y",
    "&a [*a]",
    "!!js/function x",
    "a: *b",
  ),
  anyText,
);

// ---- admission fuzz (test/fuzz/admission.fuzz.e2e.ts) ----------------------------------------------

/** Unicode and control characters, for names and annotation keys/values. */
const oddText = fc.oneof(
  anyText,
  fc.constantFrom(
    "a\nb",
    "line1\r\nline2",
    "tab\there",
    "bell\u0007",
    "nul\u0000x",
    "zw\u200bsp",
    "rtl\u202eab",
    "é",
    "名前",
    "🚀-app",
    "x".repeat(253),
    "a: b; c",
  ),
);

/** A schema-valid Deployment of a random kind whose every ai-workloads.io annotation holds an arbitrary value. */
export const annotatedDeployment = fc
  .record({
    kind: fc.constantFrom("mlserver", "librechat", "oauth2-proxy", "other", ""),
    name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), oddText),
    annotations: fc.oneof(
      annotations,
      fc.dictionary(fc.constantFrom(...Object.values(DA)), annotationValue, { minKeys: 1, maxKeys: Object.values(DA).length }),
    ),
    containerCount: fc.oneof(fc.constant(0), fc.constant(1), fc.constant(2), fc.constant(100)),
    containerName: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), oddText),
    env: fc.array(
      fc.record({
        name: fc.oneof(
          fc.constantFrom("MONGO_URI", "OAUTH2_PROXY_CLIENT_SECRET", "OAUTH2_PROXY_COOKIE_SECRET", "OAUTH2_PROXY_CLIENT_ID"),
          fc.stringMatching(/^[A-Z_]{1,10}$/),
        ),
        value: oddText,
      }),
      { maxLength: 3 },
    ),
    args: fc.array(
      fc.oneof(
        oddText,
        fc.constantFrom(
          "--upstream=http://x:1",
          "--client-secret=x",
          "--cookie-secret=y",
          "--oidc-issuer-url=https://i",
          "--provider=oidc",
        ),
      ),
      { maxLength: 4 },
    ),
  })
  .map(({ kind, name, annotations: ann, containerCount, containerName, env, args }) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "fuzz", labels: { [KIND_LABEL]: kind, app: "fuzz" }, annotations: ann },
    spec: {
      selector: { matchLabels: { app: "fuzz" } },
      template: {
        metadata: { labels: { app: "fuzz" } },
        spec: {
          containers: Array.from({ length: containerCount }, (_, i) => ({
            name: i === 0 ? containerName : `c${i}`,
            image: "docker.io/library/busybox:1",
            ...(i === 0 ? { env, args } : {}),
          })),
        },
      },
    },
  }));

/** A Namespace-shaped object with ai-workloads.io/* (and other) annotations. */
export const namespaceish = fc.record({
  apiVersion: fc.constantFrom("v1", "x"),
  kind: fc.constant("Namespace"),
  metadata: fc.record(
    {
      name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), oddText),
      annotations: fc.oneof(annotations, fc.dictionary(fc.constantFrom(...Object.values(NA)), annotationValue, { maxKeys: 8 })),
    },
    { requiredKeys: [] },
  ),
});

/** The cluster config ConfigMap with arbitrary config.yaml text. */
export const configMapish = fc.record({
  apiVersion: fc.constant("v1"),
  kind: fc.constant("ConfigMap"),
  metadata: fc.record({ name: fc.constantFrom("ai-workloads-config", "other"), namespace: fc.constantFrom("pepr-system", "team", "") }),
  data: fc.oneof(fc.record({ "config.yaml": manifestText }, { requiredKeys: [] }), fc.constantFrom(null, "x", 1, [], { "config.yaml": 7 })),
});

/** A Deployment of about `bytes` bytes: one huge annotation and a huge env value. */
export const bigDeployment = (bytes: number) =>
  fc.tuple(annotatedDeployment, fc.constantFrom("a", "é", "\u0001", "😀")).map(([d, ch]) => {
    const pad = ch.repeat(Math.floor(bytes / 2 / Buffer.byteLength(JSON.stringify(ch).slice(1, -1))));
    return {
      ...d,
      metadata: {
        ...d.metadata,
        annotations: { ...d.metadata.annotations, "example.com/pad": pad, [DA.publicPaths]: `/${"p".repeat(bytes / 2)}` },
      },
    };
  });

const gvkFor: Record<string, { group: string; version: string; kind: string; resource: string }> = {
  Deployment: { group: "apps", version: "v1", kind: "Deployment", resource: "deployments" },
  Namespace: { group: "", version: "v1", kind: "Namespace", resource: "namespaces" },
  ConfigMap: { group: "", version: "v1", kind: "ConfigMap", resource: "configmaps" },
};

/** The object an AdmissionReview carries, and how it is described. */
const reviewObject = fc.oneof(
  { weight: 5, arbitrary: annotatedDeployment },
  { weight: 3, arbitrary: deploymentish },
  { weight: 2, arbitrary: wrongTypedDeployment },
  { weight: 2, arbitrary: namespaceish },
  { weight: 1, arbitrary: configMapish },
  {
    weight: 1,
    arbitrary: fc.record({
      apiVersion: fc.constant("v1"),
      kind: fc.constantFrom("Pod", "Service", "Secret"),
      metadata: fc.record({ name: oddText }),
      spec: fc.anything(),
    }),
  },
  { weight: 1, arbitrary: fc.anything() },
);

export interface FuzzReview {
  /** What goes over the wire. */
  body: string;
  /** The parsed request, when the body is a well-formed AdmissionReview (for checking the answer). */
  review?: { request?: { uid?: unknown; kind?: { kind?: string }; namespace?: unknown; object?: unknown } };
  label: string;
}

/** An AdmissionReview as the API server would send it, with fields missing, wrong or odd. */
const wellFormedReview = fc
  .record({
    object: reviewObject,
    uid: fc.oneof(fc.uuid(), fc.constant(undefined), fc.constantFrom(42, "", null)),
    operation: fc.constantFrom("CREATE", "UPDATE", "DELETE", "CONNECT", "", "create", undefined),
    kindOverride: fc.option(fc.constantFrom("Deployment", "Namespace", "ConfigMap", "Pod", "Garbage"), { nil: undefined }),
    namespace: fc.oneof(fc.constantFrom("fuzz", "team", "pepr-system", "", undefined), oddText),
    dropKind: fc.boolean(),
    withOld: fc.boolean(),
    dryRun: fc.boolean(),
  })
  .map(({ object, uid, operation, kindOverride, namespace, dropKind, withOld, dryRun }) => {
    const kindName = kindOverride ?? ((object as { kind?: unknown })?.kind as string) ?? "Deployment";
    const gvk = gvkFor[kindName] ?? { group: "x.example.com", version: "v1", kind: String(kindName), resource: "things" };
    const request: Record<string, unknown> = {
      uid,
      kind: dropKind ? undefined : { group: gvk.group, version: gvk.version, kind: gvk.kind },
      resource: { group: gvk.group, version: gvk.version, resource: gvk.resource },
      requestKind: { group: gvk.group, version: gvk.version, kind: gvk.kind },
      name: (object as { metadata?: { name?: unknown } })?.metadata?.name,
      namespace: gvk.kind === "Namespace" ? undefined : namespace,
      operation,
      userInfo: { username: "fuzz", groups: ["system:authenticated"] },
      object,
      oldObject: withOld ? object : undefined,
      dryRun,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    };
    return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request };
  });

/** Bodies that are not an AdmissionReview at all, or whose envelope is wrong. */
const malformedBody = fc.oneof(
  fc.constantFrom(
    "",
    "{",
    "}",
    "null",
    "[]",
    "42",
    '"review"',
    '{"request":',
    '{"request": null}',
    '{"request": "x"}',
    '{"request": []}',
    '{"request": {}}',
    '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}',
    "\u0000\u0001",
    '{"a":1,}',
    "{'a':1}",
    "NaN",
    '{"request":{"object":{"metadata":{"name":"\\ud800"}}}}',
  ),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  fc.anything({ maxDepth: 3 }).map(v => JSON.stringify({ request: v })),
  wellFormedReview.map(r => JSON.stringify(r).slice(0, -7)), // truncated
);

/** Every kind of input the admission endpoints get in the fuzz: mostly AdmissionReviews, some garbage, some huge. */
export const admissionInput = (bigBytes = 1.5 * 1024 * 1024): fc.Arbitrary<FuzzReview> =>
  fc.oneof(
    { weight: 14, arbitrary: wellFormedReview.map(r => ({ body: JSON.stringify(r), review: r, label: "review" })) },
    { weight: 4, arbitrary: malformedBody.map(body => ({ body, label: "malformed" })) },
    {
      weight: 1,
      arbitrary: bigDeployment(bigBytes).map(object => {
        const review = {
          apiVersion: "admission.k8s.io/v1",
          kind: "AdmissionReview",
          request: {
            uid: "big",
            kind: { group: "apps", version: "v1", kind: "Deployment" },
            resource: { group: "apps", version: "v1", resource: "deployments" },
            name: object.metadata.name,
            namespace: "fuzz",
            operation: "CREATE",
            userInfo: { username: "fuzz" },
            object,
          },
        };
        return { body: JSON.stringify(review), review, label: "big" };
      }),
    },
  );

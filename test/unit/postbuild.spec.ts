// hack/postbuild.mjs on the real output of `npx pepr build`: Pepr's one mutating and one
// validating webhook become one webhook per selected resource (SPEC §6.4), in the manifest
// and in the Helm chart alike.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse, parseAllDocuments } from "yaml";

jest.setTimeout(240_000);

const REPO = resolve(__dirname, "..", "..");
const OUT = join(REPO, ".tmp", `postbuild-spec-${process.pid}`);
const RAW = join(OUT, "raw");
const DIST = join(OUT, "dist");
const uuid = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { pepr: { uuid: string } }).pepr.uuid;
const NAME = `pepr-${uuid}`;
const manifestOf = (dir: string): string => join(dir, `pepr-module-${uuid}.yaml`);
const templatesOf = (dir: string): string => join(dir, `${uuid}-chart`, "templates");

type Rule = { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] };
type Webhook = {
  name: string;
  admissionReviewVersions: string[];
  clientConfig: { caBundle: string; service: { name: string; namespace: string; path: string } };
  failurePolicy: string;
  matchPolicy: string;
  namespaceSelector: unknown;
  objectSelector?: unknown;
  matchConditions?: { name: string; expression: string }[];
  rules: Rule[];
  sideEffects: string;
  timeoutSeconds: number;
};
type Config = { apiVersion: string; kind: string; metadata: { name: string }; webhooks: Webhook[] };
type Doc = { kind: string; metadata: { name: string } };

const SEPARATOR = "\n---\n";
const docs = (text: string): string[] => text.replace(/\n$/, "").split(SEPARATOR);
const objectsOf = (file: string): Doc[] => parseAllDocuments(readFileSync(file, "utf8")).map(d => d.toJS() as Doc);
const configOf = (file: string, kind: string): Config => objectsOf(file).find(o => o.kind === kind) as unknown as Config;

const postbuild = (dist: string): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, [join(REPO, "hack", "postbuild.mjs"), dist], { cwd: REPO, encoding: "utf8" });

/** Renders the few Helm expressions the webhook templates use, with the chart's values. */
function helmRender(
  template: string,
  values: { uuid: string; admission: { failurePolicy: string; webhookTimeout: number }; additionalIgnoredNamespaces: string[] },
): string {
  const text = template
    .replace(/^( *)\{\{- range \.Values\.additionalIgnoredNamespaces \}\}\n\1- \{\{ \. \}\}\n\1\{\{- end \}\}$/gm, (_, indent: string) =>
      values.additionalIgnoredNamespaces.map(n => `${indent}- ${n}`).join("\n"),
    )
    .replace(/\n(?=\n)/g, "")
    .replaceAll("{{ .Values.uuid }}", values.uuid)
    .replaceAll("{{ .Values.admission.failurePolicy }}", values.admission.failurePolicy)
    .replaceAll("{{ .Values.admission.webhookTimeout }}", String(values.admission.webhookTimeout));
  expect(text).not.toMatch(/\{\{/);
  return text;
}

beforeAll(() => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  // The real build, into a directory of its own (it must be inside the repository: the build
  // loads the module, which requires pepr from node_modules).
  execFileSync("npx", ["--no-install", "pepr", "build", "-o", RAW.slice(REPO.length + 1)], {
    cwd: REPO,
    stdio: "pipe",
    env: { ...process.env, PEPR_NODE_WARNINGS: "false" },
  });
  cpSync(RAW, DIST, { recursive: true });
  const r = postbuild(DIST);
  if (r.status !== 0) throw new Error(`postbuild failed: ${r.stderr}`);
});

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe("pepr build output (the premise)", () => {
  it.each(["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])(
    "has one %s webhook without an objectSelector or matchConditions",
    kind => {
      const raw = configOf(manifestOf(RAW), kind);
      expect(raw.webhooks).toHaveLength(1);
      expect(raw.webhooks[0].objectSelector).toBeUndefined();
      expect(raw.webhooks[0].matchConditions).toBeUndefined();
    },
  );
});

describe("the post-processed manifest", () => {
  const raw = (kind: string): Webhook => configOf(manifestOf(RAW), kind).webhooks[0];
  const processed = (kind: string): Webhook[] => configOf(manifestOf(DIST), kind).webhooks;
  const rule = (group: string, resource: string): Rule => ({
    apiGroups: [group],
    apiVersions: ["v1"],
    operations: ["CREATE", "UPDATE"],
    resources: [resource],
  });
  const labelled = { matchExpressions: [{ key: "ai-workloads.io/kind", operator: "Exists" }] };

  it("mutates only Deployments labelled ai-workloads.io/kind, failing closed", () => {
    const base = raw("MutatingWebhookConfiguration");
    expect(processed("MutatingWebhookConfiguration")).toEqual([
      {
        name: `deployments.${NAME}.pepr.dev`,
        admissionReviewVersions: base.admissionReviewVersions,
        clientConfig: base.clientConfig,
        failurePolicy: "Fail",
        matchPolicy: "Equivalent",
        namespaceSelector: base.namespaceSelector,
        objectSelector: labelled,
        rules: [rule("apps", "deployments")],
        sideEffects: "None",
        timeoutSeconds: base.timeoutSeconds,
      },
    ]);
  });

  it("validates labelled Deployments (fail closed), annotated Namespaces and the config ConfigMap (fail open)", () => {
    const base = raw("ValidatingWebhookConfiguration");
    const common = {
      admissionReviewVersions: base.admissionReviewVersions,
      clientConfig: base.clientConfig,
      matchPolicy: "Equivalent",
      namespaceSelector: base.namespaceSelector,
      sideEffects: "None",
      timeoutSeconds: base.timeoutSeconds,
    };
    expect(processed("ValidatingWebhookConfiguration")).toEqual([
      {
        ...common,
        name: `deployments.${NAME}.pepr.dev`,
        failurePolicy: "Fail",
        objectSelector: labelled,
        rules: [rule("apps", "deployments")],
      },
      {
        ...common,
        name: `namespaces.${NAME}.pepr.dev`,
        failurePolicy: "Ignore",
        rules: [rule("", "namespaces")],
        matchConditions: [
          {
            name: "has-ai-workloads-annotation",
            expression:
              'object != null && has(object.metadata.annotations) && object.metadata.annotations.exists(k, k.startsWith("ai-workloads.io/"))',
          },
        ],
      },
      {
        ...common,
        name: `config.${NAME}.pepr.dev`,
        failurePolicy: "Ignore",
        rules: [rule("", "configmaps")],
        matchConditions: [
          {
            name: "is-ai-workloads-config",
            expression: 'object != null && has(object.metadata.name) && object.metadata.name == "ai-workloads-config"',
          },
        ],
      },
    ]);
  });

  it.each(["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])(
    "%s keeps every rule Pepr emitted, each in exactly one webhook",
    kind => {
      const key = (r: Rule): string => JSON.stringify(r);
      expect(
        processed(kind)
          .flatMap(w => w.rules)
          .map(key)
          .sort(),
      ).toEqual(raw(kind).rules.map(key).sort());
    },
  );

  it("sends nothing to the module unselected: every webhook has an objectSelector or matchConditions", () => {
    const all = [...processed("MutatingWebhookConfiguration"), ...processed("ValidatingWebhookConfiguration")];
    expect(all.filter(w => !w.objectSelector && !w.matchConditions).map(w => w.name)).toEqual([]);
  });

  it("leaves every other document byte for byte as Pepr wrote it", () => {
    const isWebhook = (d: string): boolean => /^kind: (Mutating|Validating)WebhookConfiguration$/m.test(d);
    expect(docs(readFileSync(manifestOf(DIST), "utf8")).filter(d => !isWebhook(d))).toEqual(
      docs(readFileSync(manifestOf(RAW), "utf8")).filter(d => !isWebhook(d)),
    );
    expect(readFileSync(manifestOf(DIST), "utf8").endsWith("\n")).toBe(readFileSync(manifestOf(RAW), "utf8").endsWith("\n"));
  });

  it("changes nothing when run again", () => {
    const before = readdirSync(templatesOf(DIST)).map(f => readFileSync(join(templatesOf(DIST), f), "utf8"));
    const manifest = readFileSync(manifestOf(DIST), "utf8");
    const r = postbuild(DIST);
    expect(r.status).toBe(0);
    expect(readFileSync(manifestOf(DIST), "utf8")).toBe(manifest);
    expect(readdirSync(templatesOf(DIST)).map(f => readFileSync(join(templatesOf(DIST), f), "utf8"))).toEqual(before);
  });
});

describe("the post-processed Helm chart", () => {
  const values = (): Parameters<typeof helmRender>[1] => parse(readFileSync(join(DIST, `${uuid}-chart`, "values.yaml"), "utf8"));
  const files = { MutatingWebhookConfiguration: "mutation-webhook.yaml", ValidatingWebhookConfiguration: "validation-webhook.yaml" };

  it.each(Object.entries(files))("%s renders with the default values to exactly the manifest's", (kind, file) => {
    const rendered = parse(helmRender(readFileSync(join(templatesOf(DIST), file), "utf8"), values()));
    expect(rendered).toEqual(configOf(manifestOf(DIST), kind));
  });

  it.each(Object.entries(files))(
    "%s follows the values: uuid, admission.failurePolicy (Deployments only), webhookTimeout, additionalIgnoredNamespaces",
    (kind, file) => {
      const v = {
        ...values(),
        uuid: "other",
        admission: { failurePolicy: "Ignore", webhookTimeout: 7 },
        additionalIgnoredNamespaces: ["team-x", "team-y"],
      };
      const rendered = parse(helmRender(readFileSync(join(templatesOf(DIST), file), "utf8"), v)) as Config;
      expect(rendered.metadata.name).toBe("other");
      for (const w of rendered.webhooks) {
        expect(w.name).toMatch(/^(deployments|namespaces|config)\.other\.pepr\.dev$/);
        expect(w.clientConfig.service.name).toBe("other");
        expect(w.timeoutSeconds).toBe(7);
        expect(w.failurePolicy).toBe("Ignore");
        expect(w.namespaceSelector).toEqual({
          matchExpressions: [
            { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "pepr-system", "team-x", "team-y"] },
          ],
        });
      }
    },
  );

  it.each(Object.entries(files))("%s carries an intact caBundle and API path (Pepr's own template can corrupt both)", (_, file) => {
    const template = readFileSync(join(templatesOf(DIST), file), "utf8");
    const caBundle = /caBundle: (\S+)/.exec(template)![1];
    expect(Buffer.from(caBundle, "base64").toString()).toMatch(/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/);
    const { secrets } = values() as unknown as { secrets: { apiPath: string } };
    const apiPath = Buffer.from(secrets.apiPath, "base64").toString();
    expect(template).toMatch(new RegExp(`path: /(mutate|validate)/${apiPath}$`, "m"));
  });
});

describe("a binding on a resource the post-processor does not select", () => {
  it("fails the build step, naming the resource", () => {
    const dist = join(OUT, "unknown");
    cpSync(RAW, dist, { recursive: true });
    const file = manifestOf(dist);
    const text = readFileSync(file, "utf8").replace(
      /(kind: ValidatingWebhookConfiguration[\s\S]*?rules:\n)/,
      "$1      - apiGroups:\n          - ''\n        apiVersions:\n          - v1\n        operations:\n          - CREATE\n        resources:\n          - pods\n",
    );
    writeFileSync(file, text);
    expect(existsSync(file)).toBe(true);
    const r = postbuild(dist);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("the module binds core/pods, which hack/postbuild.mjs does not select");
  });
});

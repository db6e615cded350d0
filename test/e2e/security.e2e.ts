// Security: webhooks over TLS only, no wildcard RBAC in the built ClusterRole, no secret value in
// any log (both module processes, the API server's audit log and log).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import {
  KIND_LABEL,
  REPO,
  type Obj,
  applyYaml,
  deleteNamespaces,
  expectModuleAlive,
  freshNamespace,
  kubectlOk,
  parseYamlObjects,
  state,
  waitFor,
  getObject,
} from "./harness";
import { TEST_TENANT } from "../../capabilities/core/testing";

jest.setTimeout(300_000);
afterAll(() => expectModuleAlive());

const manifest = (): Obj[] => parseYamlObjects(readFileSync(state().manifest, "utf8"));
type Webhooks = Obj & { webhooks: { name: string; clientConfig: { url?: string; service?: unknown; caBundle?: string } }[] };

describe("webhooks", () => {
  it("the emitted configurations call a Service over HTTPS (no url, so no http://), with a CA bundle", () => {
    const configs = manifest().filter(o => /WebhookConfiguration$/.test(o.kind)) as Webhooks[];
    expect(configs.length).toBeGreaterThan(0);
    for (const c of configs)
      for (const w of c.webhooks) {
        expect({ webhook: w.name, url: w.clientConfig.url }).toEqual({ webhook: w.name, url: undefined });
        expect(w.clientConfig.service).toBeDefined();
        expect(w.clientConfig.caBundle).toBeTruthy();
      }
  });

  it("the installed configurations use https:// only", async () => {
    for (const kind of ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]) {
      const items = (JSON.parse(await kubectlOk(["get", kind, "-o", "json"])) as { items: Webhooks[] }).items.filter(c =>
        c.metadata.name.includes("ai-workloads"),
      );
      for (const w of items.flatMap(c => c.webhooks)) expect(w.clientConfig.url ?? "https://service").toMatch(/^https:\/\//);
    }
  });

  it.each(["admission", "watcher"])("the %s controller does not answer plain HTTP", async role => {
    const c = state().controllers.find(x => x.role === role);
    if (!c) return;
    const outcome = await new Promise<string>(resolvePromise => {
      const req = request({ host: "127.0.0.1", port: c.port, path: "/healthz", method: "GET", timeout: 5_000 }, res => {
        res.resume();
        resolvePromise(`HTTP ${res.statusCode}`);
      });
      req.on("error", e => resolvePromise(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.end();
    });
    // A TLS server drops a plain-HTTP client (or at most tells it to use HTTPS): never a 2xx.
    expect(outcome).not.toMatch(/^HTTP 2/);
  });
});

type Role = Obj & { rules: { apiGroups?: string[]; resources?: string[]; verbs: string[] }[] };
const builtRoles = (): Role[] => manifest().filter(o => o.kind === "ClusterRole" || o.kind === "Role") as Role[];

describe("the built ClusterRole", () => {
  it("has no wildcard resources, verbs or API groups", () => {
    const roles = builtRoles();
    expect(roles.length).toBeGreaterThan(0);
    for (const r of roles) {
      console.log(
        `${r.kind} ${r.metadata.name}:\n${r.rules.map(x => `  ${JSON.stringify(x.apiGroups)} ${JSON.stringify(x.resources)} ${JSON.stringify(x.verbs)}`).join("\n")}`,
      );
      for (const rule of r.rules) {
        expect(rule.verbs).not.toContain("*");
        expect(rule.resources ?? []).not.toContain("*");
        expect(rule.apiGroups ?? []).not.toContain("*");
      }
    }
  });
});

describe("the README's RBAC tables", () => {
  // Rows `| \`group\` | resources | verbs | why |`: every emitted (group, resource, verb) must be in one.
  function documented(): Set<string> {
    const triples = new Set<string>();
    for (const line of readFileSync(join(REPO, "README.md"), "utf8").split("\n")) {
      const m = /^\| `([^`]*)` \| ([^|]+) \| ([^|]+) \| [^|]+ \|$/.exec(line);
      if (!m) continue;
      const group = m[1] === '""' ? "" : m[1];
      for (const resource of m[2].split(",").map(x => x.trim()))
        for (const verb of m[3].split(",").map(x => x.trim())) triples.add(`${group} ${resource} ${verb}`);
    }
    return triples;
  }

  it("name every rule of the built ClusterRole and Role, with a reason", () => {
    const listed = documented();
    const roles = builtRoles();
    const missing = roles.flatMap(r =>
      r.rules.flatMap(rule =>
        (rule.apiGroups ?? [""]).flatMap(g =>
          (rule.resources ?? []).flatMap(res => rule.verbs.map(v => `${g} ${res} ${v}`).filter(t => !listed.has(t))),
        ),
      ),
    );
    expect(listed.size).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });
});

describe("secret values", () => {
  const ns = "e2e-security-secrets";
  afterAll(() => deleteNamespaces([ns]));

  it("given as literals in a Deployment, appear in no log", async () => {
    const clientSecret = `S3cr3tValue${randomBytes(8).toString("hex")}`;
    const cookieSecret = `C00k1eValue${randomBytes(8).toString("hex")}`;
    await freshNamespace(ns, { "ai-workloads.io/aad-tenant-id": TEST_TENANT });
    const d = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "proxy",
        namespace: ns,
        labels: { [KIND_LABEL]: "oauth2-proxy" },
        annotations: { "ai-workloads.io/upstream": "backend" },
      },
      spec: {
        selector: { matchLabels: { app: "proxy" } },
        template: {
          metadata: { labels: { app: "proxy" } },
          spec: {
            containers: [
              {
                name: "oauth2-proxy",
                image: "quay.io/oauth2-proxy/oauth2-proxy:v7.6.0",
                args: [`--client-secret=${clientSecret}`, "--client-id=abc"],
                env: [{ name: "OAUTH2_PROXY_COOKIE_SECRET", value: cookieSecret }],
              },
            ],
          },
        },
      },
    };
    const r = await applyYaml([d]);
    expect(r.stderr).toContain("warning: "); // the literal secrets are warned about (SPEC §6.2)
    expect(r.code).toBe(0);
    // The watcher has processed it: its Service exists.
    await waitFor("the proxy's Service", async () => (await getObject("service", "proxy", ns)) !== undefined, {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    // Once more, so an update goes through both webhooks and the watcher too.
    await kubectlOk(["annotate", "deployment", "proxy", "-n", ns, "example.com/touched=1"]);

    const s = state();
    const files = [...s.controllers.map(c => c.logFile), s.auditLog, join(s.cpRun, "kube-apiserver.log")];
    const needles = [clientSecret, cookieSecret].flatMap(v => [v, Buffer.from(v).toString("base64")]);
    const found: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      for (const n of needles) if (text.includes(n)) found.push(`${f}: ${n}`);
    }
    console.log(`security: searched ${files.join(", ")} for ${needles.length} strings`);
    expect(found).toEqual([]);
  });
});

// The watcher's API client keeps its connections: @kubernetes/client-node 1.4 alone opens a new
// TLS connection for every request (a handshake each), which was most of the watcher's CPU in a
// burst of companion writes.
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { type Server, createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { kubeClusterApi } from "./kube-api";

// A self-signed certificate for 127.0.0.1 that is its own CA, valid until 2126, made with
// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
// -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:TRUE`.
const key = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgfsmXDMSOHFmdh96q
fEvUdGAfMOhBhpZarfF/lr91fZmhRANCAAQ1h3QgQnH1WgSV4AHPwGRCTvq2PTGW
7J9UaAopE0QsL/HCzmVZZobXQkNqmd7tZ9GYg79Cv8q16obTQyTnLRJv
-----END PRIVATE KEY-----
`;
const cert = `-----BEGIN CERTIFICATE-----
MIIBjzCCATagAwIBAgIULrL8Szb6Lev3UBiZ6mAB8AewThQwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwMzAwNDMzM1oYDzIxMjYxMTA5
MDA0MzMzWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ1h3QgQnH1WgSV4AHPwGRCTvq2PTGW7J9UaAopE0QsL/HCzmVZZobX
QkNqmd7tZ9GYg79Cv8q16obTQyTnLRJvo2QwYjAdBgNVHQ4EFgQUMT8KsC/eWAmh
B+/OZm0XWYN1gYcwHwYDVR0jBBgwFoAUMT8KsC/eWAmhB+/OZm0XWYN1gYcwDwYD
VR0RBAgwBocEfwAAATAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQC
IEVGhTRILxDWhErZQ2m7reQZ+if5vfWxg6HmSNcw5135AiAzYRcsGVpPGXe9NJJQ
PyM6vWwZWezwWlcV+9WTxpedyA==
-----END CERTIFICATE-----
`;

let server: Server;
let connections = 0;

beforeAll(async () => {
  server = createServer({ key, cert }, (_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team", annotations: { a: "b" } } }));
  });
  server.on("secureConnection", () => connections++);
  await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
});
afterAll(() => new Promise<void>(resolve => server.close(() => resolve())));
beforeEach(() => {
  connections = 0;
});

function kubeConfig(caPem: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: "c", server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: Buffer.from(caPem).toString("base64") },
    ],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

describe("kubeClusterApi's connections", () => {
  it("serve many requests over one TLS connection (the client alone opens one per request)", async () => {
    const api = kubeClusterApi("cfg", kubeConfig(cert));
    for (let i = 0; i < 5; i++) expect(await api.namespaceAnnotations("team")).toEqual({ a: "b" });
    expect(connections).toBe(1);

    // What the client does on its own, which this guards against.
    const plain = kubeConfig(cert).makeApiClient(CoreV1Api);
    connections = 0;
    for (let i = 0; i < 3; i++) await plain.readNamespace({ name: "team" });
    expect(connections).toBe(3);
  });

  it("open a new connection when the TLS options change (a CA bundle rewritten)", async () => {
    const kc = kubeConfig(cert);
    const api = kubeClusterApi("cfg", kc);
    await api.namespaceAnnotations("team");
    await api.namespaceAnnotations("team");
    expect(connections).toBe(1);
    kc.clusters[0] = { ...kc.clusters[0], caData: Buffer.from(`${cert}\n`).toString("base64") };
    await api.namespaceAnnotations("team");
    await api.namespaceAnnotations("team");
    expect(connections).toBe(2);
  });
});

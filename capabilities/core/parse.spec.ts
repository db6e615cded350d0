import { describe, expect, it } from "@jest/globals";
import {
  annotationField,
  audiencesFor,
  isIstioPathPattern,
  parseAudience,
  parseAutoscale,
  parseBoolean,
  parseGateway,
  parseHost,
  parseLabelName,
  parseName,
  parsePath,
  parsePathPrefix,
  parsePercent,
  parsePort,
  parsePublicPaths,
  parseReference,
  parseTenantId,
  yamlErrorText,
} from "./parse";
import type { Finding, Parsed } from "./problems";

const F = "metadata.annotations[ai-workloads.io/x]";

/** The finding of a rejected value; fails the test when the value was accepted. */
function finding<T>(parsed: Parsed<T>): Finding {
  if (parsed.ok) throw new Error(`expected a rejection, got ${JSON.stringify(parsed.value)}`);
  return parsed.error;
}

/** The value of an accepted value; fails the test when the value was rejected. */
function value<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(`expected a value, got ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

describe("annotationField", () => {
  it("names an annotation as metadata.annotations[<key>]", () => {
    expect(annotationField("ai-workloads.io/port")).toBe("metadata.annotations[ai-workloads.io/port]");
  });
});

describe("parseBoolean", () => {
  it.each([
    ["true", true],
    ["false", false],
  ])("accepts %p", (raw, expected) => {
    expect(value(parseBoolean(F, raw))).toBe(expected);
  });

  it.each(["True", "FALSE", "yes", "1", "", " true"])("rejects %p naming the field and the fix", raw => {
    expect(finding(parseBoolean(F, raw))).toEqual({
      field: F,
      what: `${JSON.stringify(raw)} is not a boolean`,
      fix: 'use "true" or "false"',
    });
  });
});

describe("parsePort", () => {
  it.each([
    ["1", 1],
    ["80", 80],
    ["8000", 8000],
    ["65535", 65535],
  ])("accepts %p as %p", (raw, expected) => {
    expect(value(parsePort(F, raw))).toBe(expected);
  });

  it.each(["0", "65536", "99999", "123456", "-1", "+80", "80.0", "8000 ", "http", ""])("rejects %p with the 1..65535 fix", raw => {
    expect(finding(parsePort(F, raw))).toEqual({
      field: F,
      what: `${JSON.stringify(raw)} is not a port`,
      fix: "use a whole number from 1 to 65535",
    });
  });
});

describe("parsePercent (autoscale-cpu)", () => {
  it.each([
    ["1", 1],
    ["60", 60],
    ["100", 100],
  ])("accepts %p", (raw, expected) => {
    expect(value(parsePercent(F, raw))).toBe(expected);
  });

  it.each(["0", "101", "60%", "0.5", "-5", ""])("rejects %p with the 1..100 fix", raw => {
    expect(finding(parsePercent(F, raw))).toEqual({
      field: F,
      what: `${JSON.stringify(raw)} is not a CPU utilization target`,
      fix: "use a whole number from 1 to 100",
    });
  });
});

describe("parseAutoscale", () => {
  it('accepts "off"', () => {
    expect(value(parseAutoscale(F, "off"))).toBe("off");
  });

  it('accepts "1-10" as min 1, max 10', () => {
    expect(value(parseAutoscale(F, "1-10"))).toEqual({ min: 1, max: 10 });
  });

  it('accepts a fixed range "3-3"', () => {
    expect(value(parseAutoscale(F, "3-3"))).toEqual({ min: 3, max: 3 });
  });

  it('rejects a minimum below 1 ("0-3") and suggests "1-3"', () => {
    expect(finding(parseAutoscale(F, "0-3"))).toEqual({
      field: F,
      what: "minimum 0 is below 1",
      fix: 'use a minimum of at least 1, such as "1-3"',
    });
  });

  it('rejects min above max ("5-2") and suggests the swapped range', () => {
    expect(finding(parseAutoscale(F, "5-2"))).toEqual({
      field: F,
      what: "minimum 5 is above maximum 2",
      fix: 'use "<min>-<max>" with min <= max, such as "2-5"',
    });
  });

  it('suggests a valid range when the maximum is 0 ("5-0" → "1-5")', () => {
    expect(finding(parseAutoscale(F, "5-0")).fix).toBe('use "<min>-<max>" with min <= max, such as "1-5"');
  });

  it.each(["on", "Off", "10", "1-", "-10", "1..10", "1 - 10", "a-b", "1-10-20", ""])("rejects %p as not a replica range", raw => {
    expect(finding(parseAutoscale(F, raw))).toEqual({
      field: F,
      what: `${JSON.stringify(raw)} is not a replica range`,
      fix: 'use "<min>-<max>" such as "1-10", or "off"',
    });
  });
});

describe("parsePath", () => {
  const pathFix = 'use a path such as "/apps/chat" (letters, digits, "-", ".", "_", "~" between single slashes)';

  it.each([
    ["/", "/"],
    ["/apps", "/apps"],
    ["/apps/chat", "/apps/chat"],
    ["/a-b/c_d/e.f/~g", "/a-b/c_d/e.f/~g"],
  ])("accepts %p", (raw, expected) => {
    expect(value(parsePath(F, raw))).toBe(expected);
  });

  it("drops one trailing slash so /apps/ and /apps are the same path", () => {
    expect(value(parsePath(F, "/apps/"))).toBe("/apps");
  });

  it.each(["apps", "", "//", "/apps//chat", "/apps//", "/a b", "/apps/../x", "/./x", "/apps?x=1", "/apps#x", "/ü"])(
    "rejects %p as not a URL path",
    raw => {
      expect(finding(parsePath(F, raw))).toEqual({ field: F, what: `${JSON.stringify(raw)} is not a URL path`, fix: pathFix });
    },
  );

  it("rejects a path longer than 1024 characters, shortening the value in the message", () => {
    const raw = `/${"a".repeat(1024)}`;
    const f = finding(parsePath(F, raw));
    expect(f.what).toBe(`"${raw.slice(0, 77)}..." is not a URL path`);
  });
});

describe("parsePathPrefix", () => {
  it("takes a value starting with / as an absolute path", () => {
    expect(value(parsePathPrefix(F, "/chat", "/apps"))).toBe("/chat");
  });

  it("puts a relative value under the base path /apps", () => {
    expect(value(parsePathPrefix(F, "chat", "/apps"))).toBe("/apps/chat");
  });

  it("puts a relative value under the base path / without a double slash", () => {
    expect(value(parsePathPrefix(F, "chat", "/"))).toBe("/chat");
  });

  it("accepts a nested relative value", () => {
    expect(value(parsePathPrefix(F, "team/chat", "/apps"))).toBe("/apps/team/chat");
  });

  it("drops a trailing slash of a relative value", () => {
    expect(value(parsePathPrefix(F, "chat/", "/apps"))).toBe("/apps/chat");
  });

  it("rejects a bad relative value quoting what the user wrote, not the joined path", () => {
    expect(finding(parsePathPrefix(F, "a b", "/apps"))).toEqual({
      field: F,
      what: '"a b" is not a URL path',
      fix: 'use a path such as "/apps/chat" (letters, digits, "-", ".", "_", "~" between single slashes)',
    });
  });

  it("rejects a bad absolute value", () => {
    expect(finding(parsePathPrefix(F, "/a//b", "/apps")).what).toBe('"/a//b" is not a URL path');
  });

  it("rejects an empty value rather than routing the app at the base path itself", () => {
    expect(finding(parsePathPrefix(F, "", "/apps"))).toEqual({
      field: F,
      what: "is empty",
      fix: 'use a path such as "/apps/chat", or a name such as "chat" under the base path',
    });
  });
});

describe("parsePublicPaths", () => {
  const fix = 'use a comma list of paths such as "/docs,/static/*" (a "*" only at the start or end), or "none"';

  it('gives no paths for "none"', () => {
    expect(value(parsePublicPaths(F, "none"))).toEqual([]);
  });

  it("splits a comma list of exact and prefix paths", () => {
    expect(value(parsePublicPaths(F, "/docs,/static/*"))).toEqual(["/docs", "/static/*"]);
  });

  it("trims blanks around entries", () => {
    expect(value(parsePublicPaths(F, " /docs , /static/* "))).toEqual(["/docs", "/static/*"]);
  });

  it("accepts a suffix pattern *.js", () => {
    expect(value(parsePublicPaths(F, "*.js"))).toEqual(["*.js"]);
  });

  it("accepts the presence pattern *", () => {
    expect(value(parsePublicPaths(F, "*"))).toEqual(["*"]);
  });

  it("accepts /* (everything under the root)", () => {
    expect(value(parsePublicPaths(F, "/*"))).toEqual(["/*"]);
  });

  it("drops duplicate entries, keeping the first position", () => {
    expect(value(parsePublicPaths(F, "/a,/b,/a"))).toEqual(["/a", "/b"]);
  });

  it("rejects an empty value as an empty entry", () => {
    expect(finding(parsePublicPaths(F, ""))).toEqual({ field: F, what: "has an empty entry", fix });
  });

  it("rejects a trailing comma as an empty entry", () => {
    expect(finding(parsePublicPaths(F, "/docs,"))).toEqual({ field: F, what: "has an empty entry", fix });
  });

  it("rejects a * in the middle", () => {
    expect(finding(parsePublicPaths(F, "/a*b"))).toEqual({ field: F, what: '"/a*b" is not an Istio path pattern', fix });
  });

  it("rejects a relative exact path", () => {
    expect(finding(parsePublicPaths(F, "/docs,docs"))).toEqual({ field: F, what: '"docs" is not an Istio path pattern', fix });
  });

  it.each(["**", "*a*", "/a b"])("rejects %p", raw => {
    expect(finding(parsePublicPaths(F, raw)).what).toBe(`${JSON.stringify(raw)} is not an Istio path pattern`);
  });

  it("isIstioPathPattern agrees with the list parser on single entries", () => {
    expect(["/docs", "/static/*", "*.js", "*"].every(isIstioPathPattern)).toBe(true);
    expect(["", "/a*b", "docs", "**"].some(isIstioPathPattern)).toBe(false);
  });
});

describe("parseName / parseLabelName", () => {
  it("accepts a DNS subdomain name", () => {
    expect(value(parseName(F, "my-secret.v2", "Secret"))).toBe("my-secret.v2");
  });

  it("rejects an upper-case name naming the object kind", () => {
    expect(finding(parseName(F, "My_Secret", "Secret"))).toEqual({
      field: F,
      what: '"My_Secret" is not a valid Secret name',
      fix: 'use a lowercase DNS name such as "my-name"',
    });
  });

  it("accepts a DNS label", () => {
    expect(value(parseLabelName(F, "main", "container"))).toBe("main");
  });

  it("rejects a dotted name where a DNS label is needed", () => {
    expect(finding(parseLabelName(F, "a.b", "container"))).toEqual({
      field: F,
      what: '"a.b" is not a valid container name',
      fix: 'use a lowercase DNS label such as "my-name" (at most 63 characters)',
    });
  });

  it("rejects a label longer than 63 characters", () => {
    expect(parseLabelName(F, "a".repeat(64), "container").ok).toBe(false);
    expect(parseLabelName(F, "a".repeat(63), "container").ok).toBe(true);
  });
});

describe("parseReference", () => {
  const fix = 'use "<service>", "<service>:<port>" or an http(s):// URL';

  it("resolves a bare name in the namespace with the default port and the path suffix", () => {
    expect(value(parseReference(F, "runtime-openai", "ai", 8000, "/v1"))).toBe("http://runtime-openai.ai.svc.cluster.local:8000/v1");
  });

  it("resolves a bare name without a suffix", () => {
    expect(value(parseReference(F, "librechat-backend", "ai", 3000, ""))).toBe("http://librechat-backend.ai.svc.cluster.local:3000");
  });

  it("resolves name:port with the given port", () => {
    expect(value(parseReference(F, "runtime-openai:9000", "team", 8000, "/v1"))).toBe(
      "http://runtime-openai.team.svc.cluster.local:9000/v1",
    );
  });

  it("uses an http URL as given, with no suffix added", () => {
    expect(value(parseReference(F, "http://models.example.com:8080/openai", "ai", 8000, "/v1"))).toBe(
      "http://models.example.com:8080/openai",
    );
  });

  it("uses an https URL as given", () => {
    expect(value(parseReference(F, "https://api.openai.com/v1", "ai", 8000, "/v1"))).toBe("https://api.openai.com/v1");
  });

  it.each(["svc:0", "svc:65536", "svc:", "svc:http"])("rejects %p as having an invalid port", raw => {
    expect(finding(parseReference(F, raw, "ai", 8000, ""))).toEqual({ field: F, what: `${JSON.stringify(raw)} has an invalid port`, fix });
  });

  it.each(["Runtime", "svc.other-ns", "svc:80:90", ""])("rejects %p as not a service reference", raw => {
    expect(finding(parseReference(F, raw, "ai", 8000, ""))).toEqual({
      field: F,
      what: `${JSON.stringify(raw)} is not a service reference`,
      fix,
    });
  });

  it.each(["ftp://files.example.com", "grpc://svc:9000"])("rejects %p as not an http(s) URL", raw => {
    expect(finding(parseReference(F, raw, "ai", 8000, ""))).toEqual({
      field: F,
      what: `${JSON.stringify(raw)} is not an http(s) URL`,
      fix,
    });
  });

  it.each(["http://", "https://a b"])("rejects the malformed URL %p", raw => {
    expect(finding(parseReference(F, raw, "ai", 8000, ""))).toEqual({ field: F, what: `${JSON.stringify(raw)} is not a valid URL`, fix });
  });
});

describe("parseHost", () => {
  it.each(["ai.example.com", "*.example.com", "a.b"])("accepts %p", raw => {
    expect(value(parseHost(F, raw))).toBe(raw);
  });

  it.each(["localhost", "AI.example.com", "ai..example.com", "https://ai.example.com", "*", ""])("rejects %p", raw => {
    expect(finding(parseHost(F, raw))).toEqual({
      field: F,
      what: `${JSON.stringify(raw)} is not a DNS host name`,
      fix: 'use a lowercase host name such as "ai.example.com"',
    });
  });
});

describe("parseGateway", () => {
  it("accepts <namespace>/<name>", () => {
    expect(value(parseGateway(F, "istio-system/ai-workloads-gateway"))).toBe("istio-system/ai-workloads-gateway");
  });

  it.each(["ai-workloads-gateway", "a/b/c", "/gw", "ns/", "Istio/gw"])("rejects %p", raw => {
    expect(finding(parseGateway(F, raw))).toEqual({
      field: F,
      what: `${JSON.stringify(raw)} is not a gateway reference`,
      fix: 'use "<namespace>/<gateway>" such as "istio-system/ai-workloads-gateway"',
    });
  });
});

describe("parseTenantId", () => {
  it("accepts a GUID", () => {
    expect(value(parseTenantId(F, "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01"))).toBe("8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01");
  });

  it("lower-cases an upper-case GUID", () => {
    expect(value(parseTenantId(F, "8F1C4E9A-7D49-4A7A-9A5B-2D4F2E6B9C01"))).toBe("8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01");
  });

  it.each(["contoso.onmicrosoft.com", "8f1c4e9a7d494a7a9a5b2d4f2e6b9c01", "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c0", ""])("rejects %p", raw => {
    expect(finding(parseTenantId(F, raw))).toEqual({
      field: F,
      what: `${JSON.stringify(raw)} is not a tenant id`,
      fix: 'use the Entra ID tenant\'s GUID, such as "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01"',
    });
  });
});

describe("parseAudience", () => {
  it.each(["api://3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab", "3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab", "https://my-api"])("accepts %p", raw => {
    expect(value(parseAudience(F, raw))).toBe(raw);
  });

  it.each(["", "a b", "a,b", "x".repeat(257)])("rejects %p", raw => {
    expect(finding(parseAudience(F, raw))).toEqual({
      field: F,
      what: `${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw)} is not a token audience`,
      fix: 'use "api://<application-id>" or the application\'s GUID',
    });
  });
});

describe("audiencesFor", () => {
  it("gives an api://<guid> audience and the bare GUID (v2 tokens carry the GUID)", () => {
    expect(audiencesFor("api://3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab")).toEqual([
      "api://3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab",
      "3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab",
    ]);
  });

  it("gives a bare GUID alone", () => {
    expect(audiencesFor("3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab")).toEqual(["3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab"]);
  });

  it("gives an api:// audience that is not a GUID alone", () => {
    expect(audiencesFor("api://my-api")).toEqual(["api://my-api"]);
  });

  it("gives any other audience alone", () => {
    expect(audiencesFor("https://my-api.example.com")).toEqual(["https://my-api.example.com"]);
  });
});

describe("yamlErrorText", () => {
  it("keeps the first line of a yaml error without its position", () => {
    expect(yamlErrorText("Map keys must be unique at line 3, column 3:\n\n  host: b\n  ^\n")).toBe("Map keys must be unique");
  });

  it("keeps a message that has no position", () => {
    expect(yamlErrorText("Tabs are not allowed as indentation")).toBe("Tabs are not allowed as indentation");
  });
});

import { and, matches, not, or, parsePattern, pathSetOf, relateNamespace, relatePath, unknown } from "./match";

describe("Istio value matching (istio.io Authorization Policy: exact, prefix `abc*`, suffix `*abc`, presence `*`)", () => {
  it.each([
    // [pattern, value, matches]
    ["/info", "/info", true],
    ["/info", "/info/", false],
    // "Prefix match: abc* will match on value abc and abcd"
    ["/test/*", "/test/", true],
    ["/test/*", "/test/abc", true],
    ["/test/*", "/test", false],
    // "Suffix match: *abc will match on value abc and xabc"
    ["*/info", "/info", true],
    ["*/info", "/a/b/info", true],
    ["*/info", "/information", false],
    // "Presence match: * will match when value is not empty"
    ["*", "/", true],
    ["*", "", false],
  ])("%s on %s → %s", (pattern, value, expected) => {
    expect(matches(parsePattern(pattern), value)).toBe(expected);
  });
});

describe("relatePath: a row's path set against a policy pattern", () => {
  it.each([
    // [row path, policy pattern, relation]
    ["/docs", "/docs", "all"],
    ["/docs", "/doc", "none"],
    ["/*", "/*", "all"],
    ["/*", "*", "all"],
    ["/*", "/docs", "some"],
    ["/*", "/docs*", "some"],
    ["/*", "*.js", "some"],
    ["/api/*", "/api/*", "all"],
    ["/api/*", "/api*", "all"],
    ["/api/*", "/api/v1/*", "some"],
    ["/api/*", "/web/*", "none"],
    ["/api/*", "/api", "none"],
    ["*.js", "*.js", "all"],
    ["*.js", "*s", "all"],
    ["*.js", "*/app.js", "some"],
    ["*.js", "*.css", "none"],
    ["*.js", "/*", "all"],
    ["*.js", "/static/*", "some"],
  ])("%s vs %s → %s", (row, pattern, expected) => {
    expect(relatePath(pathSetOf(row), parsePattern(pattern))).toBe(expected);
  });
});

describe("relateNamespace", () => {
  it("is exact for one namespace", () => {
    expect(relateNamespace({ exact: "ai" }, parsePattern("ai"))).toBe("all");
    expect(relateNamespace({ exact: "ai" }, parsePattern("a*"))).toBe("all");
    expect(relateNamespace({ exact: "ai" }, parsePattern("dev"))).toBe("none");
  });
  it("knows only `*` covers every other namespace and only the namespace itself misses them all", () => {
    expect(relateNamespace({ except: "ai" }, parsePattern("*"))).toBe("all");
    expect(relateNamespace({ except: "ai" }, parsePattern("ai"))).toBe("none");
    expect(relateNamespace({ except: "ai" }, parsePattern("dev"))).toBe("some");
    expect(relateNamespace({ except: "ai" }, parsePattern("team-*"))).toBe("some");
  });
});

describe("three-valued logic", () => {
  const u = unknown("x");
  it("AND: false decides over unknown", () => {
    expect(and([u, false])).toBe(false);
    expect(and([true, u])).toEqual(u);
    expect(and([])).toBe(true);
  });
  it("OR: true decides over unknown", () => {
    expect(or([u, true])).toBe(true);
    expect(or([false, u])).toEqual(u);
    expect(or([])).toBe(false);
  });
  it("NOT keeps unknown", () => {
    expect(not(u)).toEqual(u);
    expect(not(true)).toBe(false);
  });
});

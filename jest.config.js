// Two projects: `unit` needs nothing but Node; `e2e` needs the test control plane (hack/controlplane).
// pepr 1.1.x pulls ESM-only packages, so those are transformed too (allowJs).
const esmOnly = [
  "kubernetes-fluent-client",
  "@kubernetes/client-node",
  "openid-client",
  "oauth4webapi",
  "jose",
  "hpagent",
  "undici",
  "kubernetes-models",
  "@kubernetes-models",
  "is-cidr",
  "cidr-regex",
  "ip-regex",
];
const tsJest = [
  "ts-jest",
  {
    tsconfig: { module: "commonjs", moduleResolution: "node", allowJs: true, esModuleInterop: true, resolveJsonModule: true },
    diagnostics: false,
  },
];
const common = {
  testEnvironment: "node",
  transform: { "^.+\\.(ts|js|mjs)$": tsJest },
  transformIgnorePatterns: [`node_modules/(?!(${esmOnly.join("|")})/)`],
  // kubernetes-models publishes `import`-only exports; the resolver lets jest take them.
  resolver: "<rootDir>/test/jest-resolver.js",
};
module.exports = {
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/capabilities/**/*.spec.ts", "<rootDir>/cli/**/*.spec.ts", "<rootDir>/test/unit/**/*.spec.ts", "<rootDir>/test/fuzz/cli.fuzz.spec.ts"],
    },
    {
      ...common,
      displayName: "e2e",
      testMatch: ["<rootDir>/test/e2e/**/*.e2e.ts"],
    },
    {
      ...common,
      // Needs the module served, like e2e: `npm run test:fuzz` (hack/fuzz/run.mjs).
      displayName: "fuzz",
      testMatch: ["<rootDir>/test/fuzz/**/*.fuzz.e2e.ts"],
    },
  ],
};

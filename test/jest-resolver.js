// kubernetes-models and @kubernetes-models/* export only an `import` condition; jest
// resolves with `require`. For those packages alone, resolve as an import (ts-jest then
// transforms them to CommonJS, see transformIgnorePatterns).
const IMPORT_ONLY = /^(kubernetes-models|@kubernetes-models\/)/;

module.exports = (request, options) =>
  options.defaultResolver(request, IMPORT_ONLY.test(request) ? { ...options, conditions: ["import", "default"] } : options);

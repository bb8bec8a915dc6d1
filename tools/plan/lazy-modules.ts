/**
 * Modules @pulumi/pulumi loads eagerly that an offline plan never calls, loaded on first use instead.
 * A plan of the reference homelab spent about 0.4 s of its ~1.2 s loading them: the Automation API
 * (`pulumi.automation`, which pulls in npm's arborist and pacote), TypeScript (the closure serializer
 * parses functions with it; the plan replaces serialized closures by a placeholder, tools/plan/evaluate.ts)
 * and arborist again for closure code paths. Only the plan CLI installs this (Node's synchronous module
 * hooks, `module.registerHooks`, Node >= 22.15); `pulumi up` and the tests load @pulumi/pulumi as it is.
 *
 * Each listed require, from the listed importer only, gets a stand-in whose first property access
 * requires the real module (from the real importer's directory, so it resolves the same file) and
 * answers from it; nothing else ever sees the stand-in.
 */
import { createRequire, registerHooks } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

interface Deferred {
  /** Suffix of the importing file's path inside node_modules. */
  importer: string;
  specifier: string;
  /** What `__esModule` answers before loading: TypeScript's import helpers read it first. */
  esModule: boolean;
}

export const DEFERRED: readonly Deferred[] = [
  { importer: "/@pulumi/pulumi/index.js", specifier: "./automation", esModule: true },
  { importer: "/@pulumi/pulumi/typescript-shim.js", specifier: "typescript", esModule: false },
  { importer: "/@pulumi/pulumi/runtime/closure/codePaths.js", specifier: "@npmcli/arborist", esModule: true },
];

/** Stand-ins by their (made-up) file URL; the stand-in's source reads its exports from here. */
const REGISTRY = Symbol.for("homelab.deferred-modules");
const stands = new Map<string, object>();
(globalThis as Record<symbol, unknown>)[REGISTRY] = stands;

/** A module object that becomes the real one on first use. */
function standIn(load: () => object, esModule: boolean): object {
  let real: object | undefined;
  const get = (): object => (real ??= load());
  return new Proxy(
    {},
    {
      get: (_, key) => {
        if (key === "__esModule" && real === undefined) return esModule;
        const r = get() as Record<PropertyKey, unknown>;
        // `import * as x` of a CommonJS module: its default export is the module itself.
        return key === "default" && !("default" in r) ? r : r[key];
      },
      has: (_, key) => key in get(),
      ownKeys: () => Reflect.ownKeys(get()),
      getOwnPropertyDescriptor: (_, key) => {
        const d = Object.getOwnPropertyDescriptor(get(), key);
        return d && { ...d, configurable: true };
      },
    },
  );
}

/** Set while the real module loads: its own require comes from the same importer, and must not be deferred. */
let loadingReal = false;

function loadReal(importer: string, specifier: string): object {
  loadingReal = true;
  try {
    // By its resolved file name: Node caches what `specifier` from this importer's directory resolved
    // to, and that is the stand-in now.
    const require = createRequire(importer);
    return require(require.resolve(specifier)) as object;
  } finally {
    loadingReal = false;
  }
}

export function deferUnusedPulumiModules(): void {
  if (typeof registerHooks !== "function") return;
  registerHooks({
    resolve(specifier, context, next) {
      const parent = context.parentURL;
      const d =
        !loadingReal &&
        parent &&
        DEFERRED.find((x) => x.specifier === specifier && parent.endsWith(x.importer));
      if (!d) return next(specifier, context);
      const from = fileURLToPath(parent);
      // A file name of its own (it need not exist: the load hook supplies the source), so Node's module
      // cache never mixes the stand-in up with the real module.
      const url = pathToFileURL(`${from}.deferred-${specifier.replace(/[^a-z]/gi, "_")}.js`).href;
      if (!stands.has(url))
        stands.set(
          url,
          standIn(() => loadReal(from, specifier), d.esModule),
        );
      return { url, format: "commonjs", shortCircuit: true };
    },
    load(url, context, next) {
      if (!stands.has(url)) return next(url, context);
      const source = `module.exports = globalThis[Symbol.for("homelab.deferred-modules")].get(${JSON.stringify(url)});`;
      return { format: "commonjs", source, shortCircuit: true };
    },
  });
}

import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The layers (README "Architecture"): each may import itself and the layers listed, nothing else of ours.
 * tools/, tests/ and the program's entry points (program.ts, index.ts) may import everything. data/ and
 * monitoring/ hold files (prices, dashboards), not code, so any layer may read them.
 */
const LAYERS = {
  model: [],
  analysis: ["model"],
  components: ["model", "analysis"],
  policies: ["model", "analysis"],
};
const FILES = ["data", "monitoring"];
/** Layers whose code is pure: no Pulumi SDK (components build resources; model and analysis describe them). */
const PURE = ["model", "analysis"];

/**
 * A relative import climbs to the repository root with as many `../` as the importing file is deep; what
 * follows is the layer it lands in. One block per depth, so the regex knows how many `../` reach the root.
 */
const layerZones = Object.entries(LAYERS).flatMap(([layer, allowed]) =>
  [1, 2, 3].map((depth) => ({
    files: [`${layer}/${"*/".repeat(depth - 1)}*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: `^(\\.\\./){${depth}}(?!(${[layer, ...allowed, ...FILES].join("|")})(/|$))`,
              message: `${layer}/ may import ${allowed.length > 0 ? `only ${allowed.map((l) => `${l}/`).join(" and ")}` : "nothing of ours"} (layers: model → analysis → components/policies → tools). Move the shared piece down a layer.`,
            },
            ...(PURE.includes(layer)
              ? [
                  {
                    group: ["@pulumi/*"],
                    message: `${layer}/ is pure: no Pulumi SDK (resources belong in components/).`,
                  },
                ]
              : []),
          ],
        },
      ],
    },
  })),
);

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", "coverage/**", ".cache/**", "jest.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The fast runner is plain CommonJS so it can start before any TypeScript tooling.
    files: ["tools/run.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", process: "readonly", __dirname: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  ...layerZones,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);

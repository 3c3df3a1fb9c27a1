import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      ".next/**",
      ".next-*/**",
      ".leitai/**",
      "gpu-runtime/**",
      "next-env.d.ts",
      "test-results/**",
      "playwright-report/**",
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Only lib/env.ts may read process.env.
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read configuration through lib/env.ts" }],
    },
  },
  {
    files: ["lib/env.ts", "prisma.config.ts", "next.config.js", "scripts/**", "test/**", "playwright.config.ts", "vitest.config.ts", "bench/**", "workers/bench/**"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    // Next.js loads its config as CommonJS.
    files: ["next.config.js"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);

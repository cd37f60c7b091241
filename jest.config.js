/**
 * Two projects: `unit` (no network, no emulators; sockets are refused) and `integration`
 * (runs inside the emulators, started by scripts/emulators.ts).
 */
const tsJest = ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json", diagnostics: false }];

/** @type {import('jest').Config} */
module.exports = {
  reporters: ["default", "<rootDir>/scripts/jest-summary-reporter.js"],
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      roots: ["<rootDir>/functions/test/unit", "<rootDir>/scripts"],
      testMatch: ["**/*.test.ts"],
      transform: { "^.+\\.ts$": tsJest },
      setupFiles: ["<rootDir>/functions/test/support/no-network.ts"],
    },
    {
      displayName: "integration",
      testEnvironment: "node",
      roots: ["<rootDir>/functions/test/integration"],
      testMatch: ["**/*.test.ts"],
      transform: { "^.+\\.ts$": tsJest },
      testTimeout: 120000,
      setupFiles: ["<rootDir>/functions/test/support/integration-env.ts"],
    },
  ],
};

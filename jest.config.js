/**
 * Three projects: `unit` (no network, no emulators; sockets are refused), `integration`
 * (runs inside the emulators, started by scripts/emulators.ts) and `e2e` (a browser against the
 * local system, started by scripts/start.ts).
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
      setupFiles: ["<rootDir>/functions/test/support/integration-env.ts"],
      setupFilesAfterEnv: ["<rootDir>/functions/test/support/slow-tests.ts"],
    },
    {
      // Browser tests (Playwright + Debian's Chromium) against the local system of `npm start`,
      // started by `npm run test:e2e` (scripts/start.ts exec).
      displayName: "e2e",
      testEnvironment: "node",
      roots: ["<rootDir>/functions/test/e2e"],
      testMatch: ["**/*.test.ts"],
      transform: { "^.+\\.ts$": tsJest },
      setupFiles: ["<rootDir>/functions/test/support/e2e-env.ts"],
      setupFilesAfterEnv: ["<rootDir>/functions/test/support/slow-tests.ts"],
    },
  ],
};

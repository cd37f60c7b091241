/**
 * Integration and browser tests talk to emulators and a browser: allow each test up to 3 minutes.
 * (Jest reads `testTimeout` only from the top-level config, not from a project entry, so the
 * projects that need a longer timeout set it here.)
 */
jest.setTimeout(180_000);

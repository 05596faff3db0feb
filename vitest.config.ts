import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two cores here: two files at a time keeps end-to-end tests' timing honest.
    maxWorkers: 2,
  },
});

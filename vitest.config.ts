import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Coverage is off by default (a quick local loop); .ci/run turns it on and prints the summary.
    coverage: {
      provider: 'v8',
      include: ['src-main/**/*.ts', 'src-renderer/src/**/*.{ts,tsx}'],
      reporter: ['text-summary'],
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

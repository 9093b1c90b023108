import { z } from 'zod';
import { OS_TARGETS } from './targets.js';

/**
 * What a user says about the deploy host's Python, in the profile (`python:`), on the command
 * line and in the app. Kept apart from the resolver so the profile schema imports no HTTP code.
 */

export const DEFAULT_INDEX = 'https://pypi.org/simple/';
export const PY_ARCHES = ['x86_64', 'aarch64'] as const;

export const PythonRequestSchema = z.strictObject({
  os: z
    .string()
    .optional()
    .describe(
      `The deploy host's OS, which gives its Python and glibc: ${Object.keys(OS_TARGETS).join(', ')}.`,
    ),
  python: z
    .array(z.string().regex(/^3\.\d+$/, 'expected a Python version like 3.11'))
    .min(1)
    .optional()
    .describe("Python version(s) of the deploy host, e.g. ['3.11']; default: the OS's."),
  arch: z
    .array(z.enum(PY_ARCHES))
    .min(1)
    .optional()
    .describe('Deploy-host architecture(s). Default: [x86_64].'),
  glibc: z
    .string()
    .regex(/^2\.\d+$/, 'expected a glibc level like 2.36')
    .optional()
    .describe("glibc level for manylinux wheels; default: the OS's."),
  requirements: z
    .array(z.string().min(1))
    .optional()
    .describe('Extra requirements besides Kubespray’s requirements.txt (PEP 508 lines).'),
  indexes: z
    .array(z.string().url())
    .min(1)
    .optional()
    .describe('Simple index URLs (an internal PyPI, devpi or Nexus). Default: https://pypi.org/simple/.'),
  allowSdist: z
    .union([z.boolean(), z.array(z.string().min(1))])
    .optional()
    .describe('Allow an sdist where a project has no wheel for a target: true, or project names.'),
});
export type PythonRequest = z.infer<typeof PythonRequestSchema>;

import * as z from 'zod';

const simple = <K extends string>(kind: K) => z.object({ kind: z.literal(kind) });

/**
 * Why a file is (re)generated, or what else happens to it: tagged, so code branches on `kind`, never on a
 * sentence. `describeReason` renders them to words at the edge (CLI, review); JSON consumers read `kind`.
 */
export const staleReasonSchema = z.discriminatedUnion('kind', [
  simple('new'),
  simple('forced'),
  simple('settings-changed'),
  simple('shared-plan-changed'),
  simple('plan-section-changed'),
  simple('spec-section-changed'),
  simple('file-list-changed'),
  z.object({ kind: z.literal('dependency-changed'), path: z.string() }),
  simple('inputs-changed'),
  simple('removed-from-plan'),
  z.object({ kind: z.literal('out-dir-changed'), from: z.string() }),
  simple('fix'),
]);
export type StaleReason = z.output<typeof staleReasonSchema>;

export function describeReason(reason: StaleReason): string {
  switch (reason.kind) {
    case 'new':
      return 'new';
    case 'forced':
      return 'forced';
    case 'settings-changed':
      return 'settings changed';
    case 'shared-plan-changed':
      return 'shared plan changed';
    case 'plan-section-changed':
      return 'plan section changed';
    case 'spec-section-changed':
      return 'spec section changed';
    case 'file-list-changed':
      return 'file list changed';
    case 'dependency-changed':
      return `dependency ${reason.path} changed`;
    case 'inputs-changed':
      return 'inputs changed';
    case 'removed-from-plan':
      return 'removed from plan';
    case 'out-dir-changed':
      return `outDir moved from ${reason.from}`;
    case 'fix':
      return 'fix for the error';
  }
}

export function describeReasons(reasons: readonly StaleReason[]): string {
  return reasons.map(describeReason).join(', ');
}

export function hasReason(reasons: readonly StaleReason[], kind: StaleReason['kind']): boolean {
  return reasons.some((reason) => reason.kind === kind);
}

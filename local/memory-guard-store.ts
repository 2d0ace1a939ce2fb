/**
 * GuardStore in memory, with the same semantics as the DynamoDB store, for the local replay and tests.
 * Single-threaded JavaScript makes each method atomic.
 */
import { FingerprintOccurrence, NotificationDedupStore } from '../core/remediation/failure-fingerprint';
import { BreakerState, BudgetClaim, CLOSED_BREAKER, GuardStore } from '../core/remediation/guards';
import { RemediationMode } from '../core/remediation/remediation';

export class MemoryGuardStore implements GuardStore, NotificationDedupStore {
  readonly budgets = new Map<string, number>();
  /** `fingerprint#<hash>` items: occurrences in the window, who was notified, when the window ends. */
  readonly fingerprints = new Map<string, { occurrences: number; notifiedBy: string; expiresAt: number }>();
  readonly breakers = new Map<string, BreakerState>();
  readonly modes = new Map<string, RemediationMode>();
  /** Per scope, the results counted since the last success (DynamoDB's `resultIds`). */
  private readonly counted = new Map<string, Set<string>>();

  consumeBudgets(claims: readonly BudgetClaim[]): Promise<{ exhausted?: BudgetClaim }> {
    const exhausted = claims.find((claim) => (this.budgets.get(claim.key) ?? 0) >= claim.limit);
    if (!exhausted)
      for (const claim of claims) this.budgets.set(claim.key, (this.budgets.get(claim.key) ?? 0) + 1);
    return Promise.resolve(exhausted ? { exhausted } : {});
  }

  getBreaker(scope: string): Promise<BreakerState> {
    return Promise.resolve(this.breakers.get(scope) ?? CLOSED_BREAKER);
  }

  claimEscalation(scope: string, nowSeconds: number, holdsSince: number): Promise<boolean> {
    const breaker = this.breakers.get(scope) ?? CLOSED_BREAKER;
    if (breaker.escalatedAt !== undefined && breaker.escalatedAt >= holdsSince) return Promise.resolve(false);
    this.breakers.set(scope, { ...breaker, escalatedAt: nowSeconds });
    return Promise.resolve(true);
  }

  recordResult(
    scope: string,
    succeeded: boolean,
    nowSeconds: number,
    resultId?: string,
  ): Promise<BreakerState> {
    const breaker = this.breakers.get(scope) ?? CLOSED_BREAKER;
    if (resultId !== undefined) {
      if (this.counted.get(scope)?.has(resultId)) return Promise.resolve(breaker);
      const counted = succeeded ? new Set<string>() : (this.counted.get(scope) ?? new Set<string>());
      this.counted.set(scope, counted.add(resultId));
    }
    const next: BreakerState = succeeded
      ? {
          consecutiveFailures: 0,
          ...(breaker.lastFailureAt !== undefined ? { lastFailureAt: breaker.lastFailureAt } : {}),
        }
      : { ...breaker, consecutiveFailures: breaker.consecutiveFailures + 1, lastFailureAt: nowSeconds };
    this.breakers.set(scope, next);
    return Promise.resolve(next);
  }

  getMode(scope: string): Promise<RemediationMode | undefined> {
    return Promise.resolve(this.modes.get(scope));
  }

  noteOccurrence(
    hash: string,
    notifiedBy: string,
    nowSeconds: number,
    windowSeconds: number,
  ): Promise<FingerprintOccurrence> {
    const item = this.fingerprints.get(hash);
    if (!item || item.expiresAt <= nowSeconds) {
      this.fingerprints.set(hash, { occurrences: 1, notifiedBy, expiresAt: nowSeconds + windowSeconds });
      return Promise.resolve({ first: true, count: 1 });
    }
    if (item.notifiedBy === notifiedBy) return Promise.resolve({ first: true, count: item.occurrences });
    item.occurrences++;
    return Promise.resolve({ first: false, count: item.occurrences });
  }
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keepLocked, nextRenewalDelay } from './lock-renewal.ts';

void describe('lock renewal', () => {
  const cases: { name: string; remainingMs: number; delay: number }[] = [
    { name: 'renews half-way through a short lock', remainingMs: 4_000, delay: 2_000 },
    { name: 'renews 10 s before the end of a long lock', remainingMs: 60_000, delay: 50_000 },
    { name: 'renews at once when under a second is left', remainingMs: 900, delay: 0 },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      assert.equal(nextRenewalDelay(new Date(1_000_000 + c.remainingMs), 1_000_000), c.delay);
    });
  }

  void it('keeps renewing until stopped and counts each renewal', async () => {
    let renewals = 0;
    const renewal = keepLocked({
      lockedUntil: new Date(Date.now() + 40),
      budgetMs: 10_000,
      renew: async () => new Date(Date.now() + 40),
      onRenewed: () => {
        renewals++;
      },
    });
    await new Promise((r) => setTimeout(r, 200));
    renewal.stop();
    await new Promise((r) => setImmediate(r)); // a renewal already under way may still land
    const seen = renewals;
    assert.ok(seen >= 2, `renewed ${seen} times in 200 ms of a 40 ms lock`);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(renewals, seen, 'no renewal after stop');
  });

  void it('stops renewing once the job budget is spent', async () => {
    let renewals = 0;
    keepLocked({
      lockedUntil: new Date(Date.now() + 40),
      budgetMs: 60,
      renew: async () => new Date(Date.now() + 40),
      onRenewed: () => {
        renewals++;
      },
    });
    await new Promise((r) => setTimeout(r, 120));
    const atBudget = renewals;
    await new Promise((r) => setTimeout(r, 150));
    assert.ok(atBudget > 0, 'renewed while within the budget');
    assert.equal(renewals, atBudget, 'no renewal after the budget is spent');
  });
});

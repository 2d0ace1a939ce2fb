import { DEFAULT_SCENARIO, ScenarioConfig } from '../../../local/simulation/scenario';

const [storefront, payments, search] = DEFAULT_SCENARIO.pipelines;

/** A short scenario with one incident of every kind: a few hundred builds, replayed in seconds. */
export const SMALL_SCENARIO: ScenarioConfig = {
  seed: 7,
  startDate: '2026-03-02T00:00:00Z',
  days: 28,
  flakyTestRate: 0.01,
  pipelines: [
    { ...storefront!, executionsPerWorkday: 8 },
    { ...payments!, executionsPerWorkday: 6 },
    { ...search!, executionsPerWorkday: 6 },
  ],
  incidents: [
    { id: 'env-dns', kind: 'env_fault', pipeline: 'storefront', day: 15.45, variant: 'dns' },
    {
      id: 'env-timeout-standalone',
      kind: 'env_fault',
      pipeline: 'search-indexer',
      day: 16.42,
      variant: 'network_timeout',
    },
    { id: 'regression', kind: 'regression', pipeline: 'payments-api', day: 17.42, hours: 20 },
    { id: 'exhaustion', kind: 'resource_exhaustion', pipeline: 'search-indexer', day: 18, rampDays: 4 },
    { id: 'bad-deploy', kind: 'bad_deploy', pipeline: 'storefront', day: 23.45 },
  ],
};

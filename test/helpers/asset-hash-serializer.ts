/** Snapshot serializer that replaces asset hashes, so a code change does not churn infrastructure snapshots. */
const ASSET_HASH = /[a-f0-9]{64}(\.zip|\.json)?/g;

module.exports = {
  test: (value: unknown) => typeof value === 'string' && /[a-f0-9]{64}/.test(value),
  print: (value: unknown) => JSON.stringify((value as string).replace(ASSET_HASH, 'ASSET-HASH$1')),
};

import { parsePipemendConfig } from '../../lib/config';

describe('parsePipemendConfig', () => {
  test('defaults to shadow mode, the embedded scorer and all projects', () => {
    expect(parsePipemendConfig(undefined)).toEqual({
      projects: [],
      pipelines: [],
      defaultMode: 'shadow',
      scorer: 'embedded',
      endpointName: 'pipemend-rcf',
      healthAlarms: [],
      requireRollbackApproval: true,
      trainingWindowDays: 90,
    });
  });

  test('rejects an unknown remediation limit by name', () => {
    expect(() => parsePipemendConfig({ remediationLimits: { maxRetries: 2 } })).toThrow(
      /^Invalid pipemend configuration: remediationLimits: Unrecognized key: "maxRetries"/,
    );
  });

  test('accepts a JSON string from --context', () => {
    expect(parsePipemendConfig('{"projects":["api"],"defaultMode":"enforce"}')).toMatchObject({
      projects: ['api'],
      defaultMode: 'enforce',
    });
  });

  test('names the field that is wrong', () => {
    expect(() => parsePipemendConfig({ defaultMode: 'yolo' })).toThrow(
      /^Invalid pipemend configuration: defaultMode:/,
    );
  });

  test('rejects context that is not JSON', () => {
    expect(() => parsePipemendConfig('{projects')).toThrow(/context 'pipemend' is not valid JSON/);
  });
});

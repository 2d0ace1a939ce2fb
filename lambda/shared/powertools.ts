/**
 * The one Powertools set-up shared by every Pipemend Lambda: a logger, EMF metrics in the `Pipemend`
 * namespace and a tracer. Handlers import these instances rather than creating their own.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const METRICS_NAMESPACE = 'Pipemend';

export const logger = new Logger({ serviceName: 'pipemend' });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'pipemend' });
export const tracer = new Tracer({ serviceName: 'pipemend' });

/** The remediation capability: the construct, its state machine's workflow, and what it retries and may act on. */
export * from './limits';
export * from './remediation';

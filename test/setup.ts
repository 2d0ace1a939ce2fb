import 'aws-sdk-client-mock-jest';
// aws-local-stepfunctions needs Promise.withResolvers, which Node.js 20 lacks.
import '../local/promise-with-resolvers';

/** The Comeet API simulator: an independent HTTP model of Comeet's Recruiting API for tests and demos. */
export * from './server.js';
export { DEMO_API_KEY, DEMO_SECRET, demoSubjects, loadDemoSeed, loadSeedFile, type DemoSubject } from './demo.js';

/** STRESS_SCALE=full runs the suite at the sizes the reliability report quotes; the default is CI's short form. */
export const FULL = process.env.STRESS_SCALE === "full";

export const SCALE = FULL
  ? {
      jobs: 1000,
      clients: 16,
      followers: 200,
      running: 500,
      fuzzSeconds: 60,
      disconnects: 40,
      stalledFollowers: 1500,
      idleConnections: 10_000,
    }
  : {
      jobs: 200,
      clients: 16,
      followers: 50,
      running: 100,
      fuzzSeconds: 10,
      disconnects: 12,
      stalledFollowers: 300,
      idleConnections: 2000,
    };

// @ts-check
// Sent with every response; lib/web/server.ts adds the same to what it answers itself.
const securityHeaders = require("./lib/web/security-headers.json");

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  // `npm test` type-checks the whole tree with tsc first; the build need not repeat it.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  // Lets parallel test runs build into separate folders.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  // forbidden() / unauthorized() give admin pages real 403 / 401 statuses.
  experimental: { authInterrupts: true },
  // Workers, the runtime and the local services live outside the app's trace.
  outputFileTracingExcludes: { "*": ["gpu-runtime/**", ".leitai/**"] },
  serverExternalPackages: ["@prisma/client", "@prisma/adapter-pg", "pg", "bullmq", "ioredis"],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: securityHeaders,
      },
    ];
  },
};

module.exports = nextConfig;

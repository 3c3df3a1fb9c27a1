import { NextResponse } from "next/server";
import { db } from "@/lib/db";
import { checkHealth } from "@/lib/health";
import { redis } from "@/lib/redis";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function GET() {
  const health = await checkHealth({ db, redis: redis() });
  return NextResponse.json(
    { status: health.ok ? "ok" : "degraded", postgres: health.postgres, redis: health.redis },
    { status: health.ok ? 200 : 503 },
  );
}

import { Prisma } from "@prisma/client";

// Races the pre-checks cannot rule out (two admins at once) surface as these Prisma codes.

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

/** A serialisable transaction lost to a concurrent one. */
export function isWriteConflict(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2034";
}

import { z } from "zod";
import { getArenaSettings } from "../arena/arena-settings";
import { enforceRateLimit } from "../arena/rate-limit";
import { recordAudit } from "../audit";
import { errors } from "../errors";
import { createUser, emailSchema, newPasswordSchema, type PublicUser } from "../users";

export const signupSchema = z.object({ email: emailSchema, password: newPasswordSchema });

/** Accounts one address may open per hour: each is a row kept for good. */
const SIGNUPS_PER_IP_PER_HOUR = 5;

/** Open sign-up (an admin switch, off by default): a voter account, audited, a few per address an hour. */
export async function signUp({ input, ipHash }: { input: z.infer<typeof signupSchema>; ipHash: string }): Promise<PublicUser> {
  if (!(await getArenaSettings({ fresh: true })).signupOpen) throw errors.forbidden("signup_closed", { key: "signupClosed" });
  await enforceRateLimit({ surface: "signup", keys: [{ key: ipHash, limit: SIGNUPS_PER_IP_PER_HOUR }], windowS: 3600 });
  const user = await createUser({ email: input.email, password: input.password, role: "voter" });
  await recordAudit({ actorId: user.id, action: "user.signup", targetType: "user", targetId: user.id, after: user });
  return user;
}

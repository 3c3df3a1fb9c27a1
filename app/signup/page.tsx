import Link from "next/link";
import { SignupForm } from "@/components/account/signup-form";
import { getArenaSettings } from "@/lib/arena/arena-settings";

export const dynamic = "force-dynamic";

export default async function SignupPage() {
  const open = (await getArenaSettings()).signupOpen;
  return (
    <div className="card">
      <h1>注册 · Sign up</h1>
      {open ? (
        <SignupForm />
      ) : (
        <p data-testid="signup-closed">
          注册未开放，请向管理员索取账户。 · Sign-up is closed; ask an admin for an account. <Link href="/signin">Sign in</Link>
        </p>
      )}
    </div>
  );
}

import Link from "next/link";
import { SignupForm } from "@/components/account/signup-form";
import { getArenaSettings } from "@/lib/arena/arena-settings";
import { messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";

export const generateMetadata = titleFrom("account.signUp");

export default async function SignupPage() {
  const open = (await getArenaSettings()).signupOpen;
  const { account, errors } = messages(await currentLang());
  return (
    <div className="card">
      <h1>{account.signUp}</h1>
      {open ? (
        <SignupForm m={{ account, errors }} />
      ) : (
        <p data-testid="signup-closed">
          {errors.signupClosed} <Link href="/signin">{account.signIn}</Link>
        </p>
      )}
    </div>
  );
}

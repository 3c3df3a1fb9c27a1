import { messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { SignInForm } from "./sign-in-form";

export const generateMetadata = titleFrom("account.signIn");

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string }> }) {
  const { callbackUrl } = await searchParams;
  const { account } = messages(await currentLang());
  // Only same-site paths: an open redirect would let a link send a freshly signed-in admin anywhere.
  const safe = callbackUrl?.startsWith("/") && !callbackUrl.startsWith("//") ? callbackUrl : "/admin";
  return (
    <div className="card">
      <h1>{account.signIn}</h1>
      <SignInForm callbackUrl={safe} m={account} />
    </div>
  );
}

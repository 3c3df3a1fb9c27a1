import { messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { localPath, SIGNED_IN_LANDING } from "@/lib/local-path";
import { SignInForm } from "./sign-in-form";

export const generateMetadata = titleFrom("account.signIn");

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string }> }) {
  const { callbackUrl } = await searchParams;
  const { account } = messages(await currentLang());
  return (
    <div className="card">
      <h1>{account.signIn}</h1>
      <SignInForm callbackUrl={localPath(callbackUrl) ?? SIGNED_IN_LANDING} m={account} />
    </div>
  );
}

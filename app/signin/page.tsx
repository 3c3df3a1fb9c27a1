import { SignInForm } from "./sign-in-form";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string }> }) {
  const { callbackUrl } = await searchParams;
  // Only same-site paths: an open redirect would let a link send a freshly signed-in admin anywhere.
  const safe = callbackUrl?.startsWith("/") && !callbackUrl.startsWith("//") ? callbackUrl : "/admin";
  return (
    <div className="card">
      <h1>登录 · Sign in</h1>
      <SignInForm callbackUrl={safe} />
    </div>
  );
}

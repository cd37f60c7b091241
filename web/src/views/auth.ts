/** Sign up and sign in with email and password. */
import { FirebaseError } from "firebase/app";
import { createUserWithEmailAndPassword, signInWithEmailAndPassword } from "firebase/auth";
import { type View, h } from "../dom";
import type { Services } from "../firebase";

/** Firebase Auth error codes in words a person understands. */
export function authErrorText(e: unknown): string {
  const code = e instanceof FirebaseError ? e.code : "";
  switch (code) {
    case "auth/invalid-credential":
    case "auth/wrong-password":
    case "auth/user-not-found":
      return "The email or password is wrong.";
    case "auth/invalid-email":
      return "That email address does not look right.";
    case "auth/email-already-in-use":
      return "An account with this email already exists. Sign in instead.";
    case "auth/weak-password":
      return "Choose a password of at least 6 characters.";
    case "auth/too-many-requests":
      return "Too many attempts. Wait a minute and try again.";
    case "auth/network-request-failed":
      return "The sign-in service cannot be reached. Check your connection (locally: is `npm start` running?).";
    default:
      return `Something went wrong (${code || (e instanceof Error ? e.message : "unknown error")}).`;
  }
}

export function authView(s: Services, mode: "signin" | "signup"): View {
  const signup = mode === "signup";
  const message = h("p", { class: "form-error", role: "alert", "aria-live": "polite" });
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: signup ? "new-password" : "current-password",
    minlength: "6",
    required: true,
  });
  const submit = h("button", { type: "submit", class: "primary" }, signup ? "Create account" : "Sign in");
  const form = h(
    "form",
    {
      class: "card auth",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        message.textContent = "";
        submit.disabled = true;
        submit.textContent = signup ? "Creating account…" : "Signing in…";
        try {
          if (signup) await createUserWithEmailAndPassword(s.auth, email.value.trim(), password.value);
          else await signInWithEmailAndPassword(s.auth, email.value.trim(), password.value);
          location.hash = "#/dashboard";
        } catch (e) {
          message.textContent = authErrorText(e);
          submit.disabled = false;
          submit.textContent = signup ? "Create account" : "Sign in";
        }
      },
    },
    h("h1", null, signup ? "Create your account" : "Sign in"),
    h("label", null, "Email", email),
    h("label", null, "Password", password),
    message,
    submit,
    h(
      "p",
      { class: "switch" },
      signup ? "Already have an account? " : "New here? ",
      h("a", { href: signup ? "#/signin" : "#/signup" }, signup ? "Sign in" : "Create an account"),
    ),
  );
  return { el: h("main", { class: "narrow" }, form), dispose: () => undefined };
}

"use client";

import { get, type FieldErrors } from "react-hook-form";

/** A field's message, beside the field (its input names it with aria-describedby). */
export function FieldError({ errors, name, id }: { errors: FieldErrors; name: string; id?: string }) {
  const message = (get(errors, name) as { message?: string } | undefined)?.message;
  if (!message) return null;
  return <span id={id ?? `${name}-error`} className="error small field-error" role="alert" data-testid={`field-error-${name}`}>{message}</span>;
}

/** What the server refused without naming a field, or a message for the whole form. */
export function FormError({ errors }: { errors: FieldErrors }) {
  const message = (errors.root?.server ?? errors.root)?.message;
  if (!message) return null;
  return <span className="error small" role="alert" data-testid="form-error">{message}</span>;
}

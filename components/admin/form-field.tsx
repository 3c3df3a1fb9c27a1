"use client";

import { get, type FieldErrors } from "react-hook-form";
import { FieldError } from "./field-error";

// A labelled admin form field: its box, and its message beside it (the box names the message
// with aria-describedby). `testId` keeps a form's older per-field error test id beside the
// shared `field-error-<name>`.

/** The attributes that tie a box to its message. */
export function invalidProps(errors: FieldErrors, name: string): { "aria-invalid"?: true; "aria-describedby"?: string } {
  return get(errors, name) ? { "aria-invalid": true, "aria-describedby": `${name}-error` } : {};
}

export function Field({ label, name, errors, className, style, errorTestId, children }: {
  label: React.ReactNode; name: string; errors: FieldErrors; className?: string; style?: React.CSSProperties; errorTestId?: string; children: React.ReactNode;
}) {
  const error = <FieldError errors={errors} name={name} />;
  return (
    <label className={className} style={style}>
      {label}
      {children}
      {errorTestId && get(errors, name) ? <span data-testid={errorTestId}>{error}</span> : error}
    </label>
  );
}

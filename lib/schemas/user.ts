import { z } from "zod";

// A new account as an admin adds it, checked by the admin form and the API alike (client-safe;
// lib/admin/users.ts re-exports it). Messages are keys of the formErrors catalogue.

export const adminEmailSchema = z.string().trim().toLowerCase().email("emailFormat").max(200, "tooLong");

export const newUserSchema = z.object({ email: adminEmailSchema, role: z.enum(["admin", "voter"]).default("voter") });
export type NewUserInput = z.infer<typeof newUserSchema>;

import { AdminNav } from "@/components/admin/admin-nav";
import "@/components/admin/admin.css";

// Only links here: every page checks the admin role itself (requireAdminPage).
export default function AdminLayout({ children }: { children: React.ReactNode }) {
  return (
    <div>
      <AdminNav />
      {children}
    </div>
  );
}

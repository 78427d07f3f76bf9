/// Versioned migrations. A migration is a list of statements applied in one transaction
/// together with its row in `schema_migrations`; applied migrations are never edited, new
/// ones are appended. The two dialects keep the same tables, columns and constraint names
/// (PostgreSQL reports constraint names on violations; SQLite names the columns, which
/// ``SQLiteBackend`` maps to the same names).
///
/// Types: ids and text are TEXT; counts and sequence numbers 64-bit integers; timestamps are
/// unix seconds in a double (REAL / DOUBLE PRECISION), the same representation in both
/// databases so a value round-trips exactly.
enum Schema {
    struct Migration: Sendable {
        var version: Int
        var name: String
        var statements: [String]
    }

    static func migrations(for dialect: SQLDialect) -> [Migration] {
        switch dialect {
        case .sqlite:
            return [Migration(version: 1, name: "initial", statements: initial(.sqlite)),
                    Migration(version: 2, name: "call_records", statements: callRecords(.sqlite)),
                    Migration(version: 3, name: "restrict_caller_id",
                              statements: ["ALTER TABLE trunks ADD COLUMN restrict_caller_id INTEGER NOT NULL DEFAULT 0"]),
                    Migration(version: 4, name: "account_webhooks", statements: accountWebhooks),
                    Migration(version: 5, name: "config_change_object", statements: configChangeObject)]
        case .postgres:
            return [Migration(version: 1, name: "initial", statements: initial(.postgres)),
                    Migration(version: 2, name: "call_records", statements: callRecords(.postgres)),
                    Migration(version: 3, name: "restrict_caller_id",
                              statements: ["ALTER TABLE trunks ADD COLUMN restrict_caller_id BIGINT NOT NULL DEFAULT 0"]),
                    Migration(version: 4, name: "account_webhooks", statements: accountWebhooks),
                    Migration(version: 5, name: "config_change_object", statements: configChangeObject)]
        }
    }

    /// An account's webhook: URL, comma-separated event types, the sealed signing secret.
    private static let accountWebhooks = [
        "ALTER TABLE accounts ADD COLUMN webhook_url TEXT",
        "ALTER TABLE accounts ADD COLUMN webhook_events TEXT",
        "ALTER TABLE accounts ADD COLUMN webhook_secret_sealed TEXT",
    ]

    /// The one object a change is about (a credential's sid), so the edge can apply it alone
    /// instead of reloading the trunk.
    private static let configChangeObject = ["ALTER TABLE config_changes ADD COLUMN object_sid TEXT"]

    /// CDRs: append-only like auth events, paged newest first by `seq`. No foreign key to the
    /// trunk: a record outlives the trunk it was made on.
    private static func callRecords(_ dialect: SQLDialect) -> [String] {
        let real = dialect == .sqlite ? "REAL" : "DOUBLE PRECISION"
        let int = dialect == .sqlite ? "INTEGER" : "BIGINT"
        let serial = dialect == .sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY"
        return [
            """
            CREATE TABLE call_records (
                seq \(serial),
                sid TEXT NOT NULL UNIQUE,
                account_sid TEXT NOT NULL,
                trunk_sid TEXT,
                direction TEXT NOT NULL,
                from_uri TEXT NOT NULL,
                to_uri TEXT NOT NULL,
                start_time \(real) NOT NULL,
                answer_time \(real),
                end_time \(real) NOT NULL,
                duration \(int) NOT NULL,
                hangup_cause TEXT NOT NULL,
                hangup_cause_code \(int),
                auth_type TEXT,
                auth_user TEXT,
                source_ip TEXT
            )
            """,
            "CREATE INDEX call_records_account ON call_records (account_sid, seq)",
        ]
    }

    static func createMigrationsTable(_ dialect: SQLDialect) -> String {
        let real = dialect == .sqlite ? "REAL" : "DOUBLE PRECISION"
        let int = dialect == .sqlite ? "INTEGER" : "BIGINT"
        return "CREATE TABLE IF NOT EXISTS schema_migrations (version \(int) PRIMARY KEY, name TEXT NOT NULL, applied_at \(real) NOT NULL)"
    }

    private static func initial(_ dialect: SQLDialect) -> [String] {
        let real = dialect == .sqlite ? "REAL" : "DOUBLE PRECISION"
        let int = dialect == .sqlite ? "INTEGER" : "BIGINT"
        let serial = dialect == .sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY"
        // trunks.ip_acl_sid → ip_acls and ip_acls.owner_trunk_sid → trunks reference each other.
        // SQLite accepts a forward reference inline; PostgreSQL gets it with ALTER TABLE below.
        let ownerFK = dialect == .sqlite ? " REFERENCES trunks(sid) ON DELETE CASCADE" : ""
        var s = [
            """
            CREATE TABLE accounts (
                sid TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                created_at \(real) NOT NULL
            )
            """,
            """
            CREATE TABLE api_keys (
                sid TEXT PRIMARY KEY,
                account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,
                token_hash TEXT NOT NULL,
                salt TEXT NOT NULL,
                created_at \(real) NOT NULL
            )
            """,
            "CREATE INDEX api_keys_account ON api_keys (account_sid)",
            """
            CREATE TABLE ip_acls (
                sid TEXT PRIMARY KEY,
                account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,
                name TEXT NOT NULL,
                owner_trunk_sid TEXT\(ownerFK),
                created_at \(real) NOT NULL,
                CONSTRAINT ip_acls_owner_trunk_key UNIQUE (owner_trunk_sid)
            )
            """,
            "CREATE INDEX ip_acls_account ON ip_acls (account_sid, sid)",
            """
            CREATE TABLE trunks (
                sid TEXT PRIMARY KEY,
                account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,
                trunk_name TEXT NOT NULL,
                domain_name TEXT NOT NULL,
                auth_type TEXT NOT NULL,
                realm TEXT NOT NULL,
                digest_algorithms TEXT NOT NULL,
                max_cps \(int),
                max_concurrent_calls \(int),
                ip_acl_sid TEXT REFERENCES ip_acls(sid),
                created_at \(real) NOT NULL,
                updated_at \(real) NOT NULL,
                CONSTRAINT trunks_domain_name_key UNIQUE (domain_name)
            )
            """,
            "CREATE INDEX trunks_account ON trunks (account_sid, sid)",
            "CREATE INDEX trunks_ip_acl ON trunks (ip_acl_sid)",
            """
            CREATE TABLE ip_acl_entries (
                sid TEXT PRIMARY KEY,
                acl_sid TEXT NOT NULL REFERENCES ip_acls(sid) ON DELETE CASCADE,
                ip_address TEXT NOT NULL,
                cidr_prefix_length \(int) NOT NULL,
                description TEXT,
                created_at \(real) NOT NULL
            )
            """,
            "CREATE INDEX ip_acl_entries_acl ON ip_acl_entries (acl_sid, sid)",
            """
            CREATE TABLE credentials (
                sid TEXT PRIMARY KEY,
                account_sid TEXT NOT NULL,
                trunk_sid TEXT NOT NULL REFERENCES trunks(sid) ON DELETE CASCADE,
                user_name TEXT NOT NULL,
                friendly_name TEXT,
                ha1_md5 TEXT NOT NULL,
                ha1_sha256 TEXT NOT NULL,
                ha1_sha512_256 TEXT NOT NULL,
                realm TEXT NOT NULL,
                created_at \(real) NOT NULL,
                last_used_at \(real),
                last_used_ip TEXT,
                CONSTRAINT credentials_trunk_user_key UNIQUE (trunk_sid, user_name)
            )
            """,
            "CREATE INDEX credentials_trunk ON credentials (trunk_sid, sid)",
            "CREATE INDEX credentials_account ON credentials (account_sid)",
            """
            CREATE TABLE phone_numbers (
                sid TEXT PRIMARY KEY,
                account_sid TEXT NOT NULL,
                trunk_sid TEXT NOT NULL REFERENCES trunks(sid) ON DELETE CASCADE,
                phone_number TEXT NOT NULL,
                created_at \(real) NOT NULL,
                CONSTRAINT phone_numbers_number_key UNIQUE (phone_number)
            )
            """,
            "CREATE INDEX phone_numbers_trunk ON phone_numbers (trunk_sid, sid)",
            "CREATE INDEX phone_numbers_account ON phone_numbers (account_sid)",
            """
            CREATE TABLE destinations (
                sid TEXT PRIMARY KEY,
                account_sid TEXT NOT NULL,
                trunk_sid TEXT NOT NULL REFERENCES trunks(sid) ON DELETE CASCADE,
                destination TEXT NOT NULL,
                priority \(int) NOT NULL,
                weight \(int) NOT NULL,
                auth_username TEXT,
                auth_password_sealed TEXT,
                created_at \(real) NOT NULL
            )
            """,
            "CREATE INDEX destinations_trunk ON destinations (trunk_sid, sid)",
            """
            CREATE TABLE auth_events (
                seq \(serial),
                sid TEXT NOT NULL,
                account_sid TEXT,
                trunk_sid TEXT,
                time \(real) NOT NULL,
                source_ip TEXT NOT NULL,
                source_port \(int) NOT NULL,
                transport TEXT NOT NULL,
                method TEXT NOT NULL,
                request_uri TEXT NOT NULL,
                user_name TEXT,
                algorithm TEXT,
                credential_sid TEXT,
                result TEXT NOT NULL,
                reason TEXT NOT NULL
            )
            """,
            "CREATE INDEX auth_events_account ON auth_events (account_sid, seq)",
            """
            CREATE TABLE lockouts (
                account_sid TEXT NOT NULL,
                ip TEXT NOT NULL,
                locked_at \(real) NOT NULL,
                locked_until \(real) NOT NULL,
                failures \(int) NOT NULL,
                PRIMARY KEY (account_sid, ip)
            )
            """,
            "CREATE INDEX lockouts_until ON lockouts (locked_until)",
            """
            CREATE TABLE registrations (
                sid TEXT PRIMARY KEY,
                account_sid TEXT NOT NULL,
                trunk_sid TEXT NOT NULL REFERENCES trunks(sid) ON DELETE CASCADE,
                aor TEXT NOT NULL,
                contact TEXT NOT NULL,
                expires_at \(real) NOT NULL,
                q \(int) NOT NULL,
                call_id TEXT NOT NULL,
                cseq \(int) NOT NULL,
                credential_sid TEXT,
                source_ip TEXT NOT NULL,
                source_port \(int) NOT NULL,
                transport TEXT NOT NULL,
                user_agent TEXT,
                updated_at \(real) NOT NULL,
                CONSTRAINT registrations_binding_key UNIQUE (trunk_sid, aor, contact)
            )
            """,
            "CREATE INDEX registrations_account ON registrations (account_sid, sid)",
            "CREATE INDEX registrations_expires ON registrations (expires_at)",
            """
            CREATE TABLE config_changes (
                version \(serial),
                account_sid TEXT,
                trunk_sid TEXT,
                kind TEXT NOT NULL,
                at \(real) NOT NULL
            )
            """,
        ]
        if dialect == .postgres {
            s.append("ALTER TABLE ip_acls ADD CONSTRAINT ip_acls_owner_trunk_fkey FOREIGN KEY (owner_trunk_sid) REFERENCES trunks(sid) ON DELETE CASCADE")
        }
        return s
    }
}

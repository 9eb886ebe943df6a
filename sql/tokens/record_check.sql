insert into meta.token_checks (
    platform, variable, connection_id, fingerprint, expires_at, never_expires, valid, source,
    checked_at, refreshed_at
)
values (
    $platform, $variable, $connection_id, $fingerprint, $expires_at, $never_expires, $valid,
    $source, $checked_at, $refreshed_at
)

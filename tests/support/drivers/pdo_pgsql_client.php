<?php
// PHP PDO with the pgsql driver (contract: _common.py). Run as `php pdo_pgsql_client.php VARIANT`.
//
// Each request does what PHP code commonly does: it executes a statement the worker
// prepared once (a repository object, a long-running worker), then runs a transaction of
// two reads through a small select() helper that prepares, executes and fetches, so that
// the first helper's PDOStatement is freed inside the transaction (Laravel's
// Connection::select works this way too).
//
// Default: PDO::ATTR_EMULATE_PREPARES is off for pgsql, so each prepare() is a named
// server statement pdo_stmt_%08x (a per-connection counter from 1), prepared (PQprepare)
// on its first execute(); on "already exists" (42P05) PDO sends DEALLOCATE <name> and
// prepares again; freeing a PDOStatement sends SQL DEALLOCATE <name>, whose failure PDO
// ignores but which aborts the enclosing transaction. Fix: PDO::ATTR_EMULATE_PREPARES =>
// true: PDO interpolates the parameters and sends plain queries, no named statements.
// Source: https://github.com/php/php-src/blob/PHP-8.2/ext/pdo_pgsql/pgsql_statement.c
// (pgsql_stmt_execute: stmt_retry, pgsql_stmt_dtor: DEALLOCATE) and
// https://github.com/php/php-src/blob/PHP-8.2/ext/pdo_pgsql/pgsql_driver.c (pgsql_handle_preparer).

$queries = (int) (getenv('DRIVER_QUERIES') ?: 12);
$pauseMs = (int) (getenv('DRIVER_PAUSE_MS') ?: 20);
$limit = 3 + (int) (getenv('DRIVER_INSTANCE') ?: 0);
$sql = "SELECT id, name FROM driver_item WHERE id > ? ORDER BY id LIMIT $limit";
$variant = $argv[1] ?? 'default';
$url = parse_url(getenv('DATABASE_URL'));
$password = rawurldecode($url['pass'] ?? '');

$out = ['ok' => false, 'error' => '', 'errors' => 0, 'queries' => 0, 'seen' => [],
        'driver' => 'pdo-pgsql', 'version' => PHP_VERSION, 'variant' => $variant];

function failed(array &$out, Throwable $e, string $password): void
{
    $lines = preg_split('/\R/', trim($e->getMessage()));
    $text = $lines[0] !== '' ? $lines[0] : get_class($e);
    if ($password !== '') {
        $text = str_replace($password, '***', $text);
    }
    $out['errors'] += 1;
    $out['error'] = $out['error'] ?: $text;
    if (!in_array($text, $out['seen'], true) && count($out['seen']) < 3) {
        $out['seen'][] = $text;
    }
}

function check(array $ids, int $i, int $limit): void
{
    $expected = range($i + 1, $i + $limit);
    if (count($ids) !== $limit) {
        throw new RuntimeException('wrong result: ' . count($ids) . " rows from a query with LIMIT $limit");
    }
    if (array_map('intval', $ids) !== $expected) {
        throw new RuntimeException('wrong result: ids [' . implode(', ', $ids) . '], expected [' . implode(', ', $expected) . ']');
    }
}

function select(PDO $pdo, string $sql, int $i): array
{
    $statement = $pdo->prepare($sql);
    $statement->execute([$i]);
    return $statement->fetchAll(PDO::FETCH_COLUMN, 0);
}

function emit(array $out): void
{
    $out['ok'] = $out['errors'] === 0;
    echo json_encode($out, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}

try {
    $dsn = sprintf('pgsql:host=%s;port=%d;dbname=%s', $url['host'], $url['port'] ?? 5432, ltrim($url['path'] ?? '', '/'));
    $options = [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION];
    if ($variant === 'fix') {
        $options[PDO::ATTR_EMULATE_PREPARES] = true;
    }
    $pdo = new PDO($dsn, rawurldecode($url['user'] ?? ''), $password, $options);
    $read = $pdo->prepare($sql);
} catch (Throwable $e) {
    failed($out, $e, $password);
    emit($out);
    exit(0);
}

$barrier = getenv('DRIVER_BARRIER');
if ($barrier) {
    touch("$barrier/ready-" . getmypid());
    $deadline = microtime(true) + 60;
    while (!file_exists("$barrier/go") && microtime(true) < $deadline) {
        usleep(5000);
    }
}

for ($i = 0; $i < $queries; $i++) {
    try {
        $read->execute([$i]);
        check($read->fetchAll(PDO::FETCH_COLUMN, 0), $i, $limit);
        $pdo->beginTransaction();
        try {
            check(select($pdo, $sql, $i), $i, $limit);
            check(select($pdo, $sql, $i), $i, $limit);
            $pdo->commit();
        } catch (Throwable $e) {
            try {
                $pdo->rollBack();
            } catch (Throwable $ignored) {
                // the request's error is the first one
            }
            throw $e;
        }
    } catch (Throwable $e) {
        failed($out, $e, $password);
    }
    $out['queries'] += 1;
    usleep($pauseMs * 1000);
}
$read = null;
$pdo = null;
emit($out);

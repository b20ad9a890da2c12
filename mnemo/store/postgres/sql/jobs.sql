-- The job queue as mnemo uses it: deferring a job inside the caller's transaction
-- (so a job exists exactly when the data it works on was committed), and reading
-- the queue's state. The queue itself is procrastinate's (revision 0004).

-- name: defer_job
SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(
    %(job_queue)s::varchar, %(job_task)s::varchar, %(job_priority)s::integer,
    %(job_lock)s::text, %(job_queueing_lock)s::text, %(job_args)s::jsonb,
    %(job_scheduled_at)s::timestamptz
)]::procrastinate_job_to_defer_v1[])) AS job_id

-- name: queue_counts
-- Jobs of mnemo's queues by queue and status.
SELECT queue_name, status::text AS status, count(*) AS jobs
FROM procrastinate_jobs
WHERE queue_name = ANY(%(queues)s::text[])
GROUP BY queue_name, status
ORDER BY queue_name, status

-- name: ready_jobs
-- Jobs of mnemo's queues that are waiting and due (some may wait on a user's lock).
SELECT count(*) AS ready FROM procrastinate_jobs
WHERE queue_name = ANY(%(queues)s::text[]) AND status = 'todo'
  AND (scheduled_at IS NULL OR scheduled_at <= now())

-- name: failed_jobs
-- The most recent jobs that failed for good, with when they last changed.
SELECT j.id, j.queue_name, j.task_name, j.args, j.attempts, max(e.at) AS at
FROM procrastinate_jobs j
LEFT JOIN procrastinate_events e ON e.job_id = j.id
WHERE j.queue_name = ANY(%(queues)s::text[]) AND j.status = 'failed'
GROUP BY j.id
ORDER BY max(e.at) DESC NULLS LAST, j.id DESC
LIMIT %(limit)s

-- name: live_workers
-- Workers whose heartbeat is recent enough to count them alive.
SELECT count(*) AS live FROM procrastinate_workers
WHERE last_heartbeat > now() - make_interval(secs => %(seconds)s)

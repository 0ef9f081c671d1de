#include "common/workpool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct workpool_job {
	workpool_fn fn;
	struct loop *loop;
	loop_post_fn done;
	void *arg;
	struct workpool_job *next;
};

struct workpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct workpool_job *head, *tail;
	size_t queued, running, max_queued;
	bool stop;
	unsigned nthreads;
	pthread_t *threads;
};

static void *worker(void *p)
{
	struct workpool *w = p;

	for (;;) {
		struct workpool_job *j;

		pthread_mutex_lock(&w->mu);
		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->head == NULL) {
			pthread_mutex_unlock(&w->mu);
			return NULL;
		}
		j = w->head;
		w->head = j->next;
		if (w->head == NULL)
			w->tail = NULL;
		w->queued--;
		w->running++;
		pthread_mutex_unlock(&w->mu);

		j->fn(j->arg);
		/* If the post fails (out of memory) the job is lost: run done here
		 * would race the loop, so there is no better choice than to drop. */
		(void)loop_post(j->loop, j->done, j->arg);
		free(j);

		pthread_mutex_lock(&w->mu);
		w->running--;
		pthread_mutex_unlock(&w->mu);
	}
}

struct workpool *workpool_new(unsigned nthreads, size_t max_queued, struct err *e)
{
	struct workpool *w = calloc(1, sizeof(*w));

	if (w == NULL || nthreads == 0) {
		free(w);
		err_set(e, nthreads == 0 ? "a work pool needs a thread" : "out of memory");
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->max_queued = max_queued;
	w->threads = calloc(nthreads, sizeof(*w->threads));
	if (w->threads == NULL) {
		workpool_free(w);
		err_set(e, "out of memory");
		return NULL;
	}
	for (unsigned i = 0; i < nthreads; i++) {
		int rc = pthread_create(&w->threads[i], NULL, worker, w);

		if (rc != 0) {
			workpool_free(w);
			err_set(e, "pthread_create: %s", strerror(rc));
			return NULL;
		}
		w->nthreads++;
	}
	return w;
}

int workpool_submit(struct workpool *w, workpool_fn fn, struct loop *l,
    loop_post_fn done, void *arg)
{
	struct workpool_job *j = malloc(sizeof(*j));

	if (j == NULL)
		return -1;
	*j = (struct workpool_job){ .fn = fn, .loop = l, .done = done, .arg = arg };
	pthread_mutex_lock(&w->mu);
	if (w->queued >= w->max_queued || w->stop) {
		pthread_mutex_unlock(&w->mu);
		free(j);
		return -1;
	}
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

size_t workpool_busy(struct workpool *w)
{
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->queued + w->running;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void workpool_free(struct workpool *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (unsigned i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}

"""A deliberately weak capstone delivery: plausible code that runs and meets no target.

Each entry replaces one solution cell of ``10_capstone`` (grade_id -> source).
It is what an engineer who knows the tools but not the trade-offs might write:

* a class-weighted logistic regression on four numeric columns: it ranks
  fraud poorly and its probabilities are inflated by the class weights;
* no calibration at all;
* one replica serving one request at a time: unstable at the stated load;
* a monitor that only pages when the mean score doubles: blind to broken
  inputs and to slow concept drift.
"""

WEAK_CAPSTONE = {
    "cap1_build_scorer": '''\
def build_scorer(history):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    columns = ["amount", "hour", "distance_km", "tx_count_24h"]
    rows = history[history["label"].notna()]
    model = make_pipeline(modeling.make_preprocessor(rows[columns]),
                          LogisticRegression(class_weight="balanced", max_iter=500))
    model.fit(rows[columns], rows["label"].astype(int))
    return lambda frame: model.predict_proba(frame[columns])[:, 1]
''',
    "cap2_calibrate": '''\
def calibrate(scorer, history):
    return scorer
''',
    "cap3_serving_config": '''\
def serving_config(service, load, targets):
    return cap.ServingConfig(max_batch_size=1, timeout_ms=0.0, replicas=1)
''',
    "cap4_design_monitor": '''\
def design_monitor(reference):
    baseline = float(reference["score"].mean())

    def monitor(batches):
        return [batch.day for batch in batches if float(batch.scored["score"].mean()) > 2 * baseline]

    return monitor
''',
}

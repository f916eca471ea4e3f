"""Transfer candidate ids are hashes of what was proposed, not of where the data file lies."""

import shutil
from dataclasses import replace

from parks.suitability.transfers import propose_transfers_from_dataset


def test_same_data_at_another_path_gives_the_same_candidate_ids(dataset, tmp_path):
    elsewhere = tmp_path / "copy" / dataset.path.name
    elsewhere.parent.mkdir()
    shutil.copyfile(dataset.path, elsewhere)
    a = propose_transfers_from_dataset(dataset)
    b = propose_transfers_from_dataset(replace(dataset, path=elsewhere))
    ids_a = [c.candidate_id for c in a.candidates]
    assert ids_a and ids_a == [c.candidate_id for c in b.candidates]
    assert str(tmp_path) not in repr(b.candidates[0])

"""The stages of `zigzag run`: one line on stderr per stage, and the seconds each took."""

from zigzag.report._stages import Stages


def test_stages_show_one_line_each_with_the_time_and_record_seconds(capsys):
    stages = Stages(progress=True)
    with stages("zigzag barcode"):
        pass
    with stages("evaluate plan 1/2", ticking=False):  # shows its own progress bar
        pass
    err = capsys.readouterr().err
    assert "zigzag barcode: 00:00" in err and "evaluate plan" not in err
    assert list(stages.seconds) == ["zigzag barcode", "evaluate plan 1/2"]
    quiet = Stages(progress=False)
    with quiet("figures"):
        pass
    assert capsys.readouterr().err == "" and quiet.seconds["figures"] >= 0

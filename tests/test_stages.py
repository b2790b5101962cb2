"""The stages of `zigzag run`: one line on stderr per stage, and the seconds each took."""

from zigzag.report._stages import Stages


def test_stages_show_one_line_each_with_the_time_and_record_seconds(capsys):
    stages = Stages(progress=True)
    with stages("zigzag barcode"):
        pass
    with stages("evaluate plan 1/2", ticking=False):  # shows its own progress bar
        pass
    err = capsys.readouterr().err
    assert err == "zigzag barcode: 00:00\n"  # not a terminal: the line once, with the final time
    assert list(stages.seconds) == ["zigzag barcode", "evaluate plan 1/2"]
    quiet = Stages(progress=False)
    with quiet("figures"):
        pass
    assert capsys.readouterr().err == "" and quiet.seconds["figures"] >= 0


def test_on_a_terminal_a_stage_ticks_on_one_line(monkeypatch, capsys):
    import zigzag.report._stages as module

    monkeypatch.setattr(module, "_is_terminal", lambda stream: True)
    with Stages(progress=True)("zigzag barcode"):
        pass
    err = capsys.readouterr().err
    assert "zigzag barcode: 00:00" in err and err.count("\n") == 1  # redrawn in place (\r), then left

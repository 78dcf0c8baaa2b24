"""Genres of tiny hand-written MovieLens files land on the right item indices; bad files fail loudly."""

from pathlib import Path

import numpy as np
import pytest

from recgym.data import LogError, load_movielens
from recgym.data.item_genres import ML100K_GENRES, load_movielens_genres

UDATA = "7\t10\t4\t100\n3\t30\t5\t500\n3\t20\t2\t300\n"  # items 10, 20, 30 -> indices 0, 1, 2
RATINGS_CSV = "userId,movieId,rating,timestamp\n7,10,4.0,100\n3,30,0.5,500\n3,20,2.5,300\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def u_item_line(item: int, flags: list[int]) -> str:
    return f"{item}|Title ({item})|01-Jan-1995||http://imdb|" + "|".join(map(str, flags)) + "\n"


def test_ml100k_with_u_genre_drops_unknown_and_missing_items(tmp_path: Path) -> None:
    write(tmp_path / "u.data", UDATA)
    write(tmp_path / "u.genre", "unknown|0\nAction|1\nComedy|2\n\n")
    # 10: Action and Comedy; 20: unknown only; 40 is not in the log; 30 is not in u.item
    text = u_item_line(10, [0, 1, 1]) + u_item_line(20, [1, 0, 0]) + u_item_line(40, [0, 0, 1])
    write(tmp_path / "u.item", text, encoding="latin-1")
    genres = load_movielens_genres(tmp_path, load_movielens(tmp_path))
    assert genres.names == ["Action", "Comedy"]
    assert genres.matrix.dtype == np.bool_
    assert genres.matrix.tolist() == [[True, True], [False, False], [False, False]]
    assert genres.primary.tolist() == [0, -1, -1]


def test_ml100k_without_u_genre_uses_the_19_standard_names(tmp_path: Path) -> None:
    write(tmp_path / "u.data", UDATA)
    comedy_drama = [int(name in ("Comedy", "Drama")) for name in ML100K_GENRES]
    no_genre = "10|Amélie (2001)||||" + "|".join("0" * 19) + "\n"  # latin-1, empty date and URL fields
    write(tmp_path / "u.item", u_item_line(30, comedy_drama) + no_genre, encoding="latin-1")
    genres = load_movielens_genres(tmp_path / "u.data", load_movielens(tmp_path))
    assert genres.names == list(ML100K_GENRES[1:])
    assert genres.matrix.shape == (3, 18)
    assert [genres.names[j] for j in np.flatnonzero(genres.matrix[2])] == ["Comedy", "Drama"]
    assert genres.primary.tolist() == [-1, -1, genres.names.index("Comedy")]


def test_ml_latest_keeps_the_listed_order_for_primary(tmp_path: Path) -> None:
    write(tmp_path / "ratings.csv", RATINGS_CSV)
    movies = (
        "movieId,title,genres\n"
        '10,"Ten, The (1995)",Sci-Fi|IMAX\n'  # IMAX sorts first but is listed last
        "20,Twenty (1996),(no genres listed)\n"
        "30,Thirty (1997),Children|Adventure|Sci-Fi\n"
    )
    write(tmp_path / "movies.csv", movies)
    log = load_movielens(tmp_path)
    for path in (tmp_path, tmp_path / "ratings.csv"):
        genres = load_movielens_genres(path, log)
        assert genres.names == ["Adventure", "Children", "IMAX", "Sci-Fi"]
        assert genres.matrix.tolist() == [
            [False, False, True, True],
            [False, False, False, False],
            [True, True, False, True],
        ]
        assert genres.primary.tolist() == [3, -1, 1]


def test_ml1m_movies_dat_is_latin1(tmp_path: Path) -> None:
    write(tmp_path / "ratings.dat", "7::10::4::100\n3::20::5::500\n")
    write(tmp_path / "movies.dat", "10::Amélie (2001)::Comedy|Romance\n20::Z (1969)::Drama\n", "latin-1")
    genres = load_movielens_genres(tmp_path, load_movielens(tmp_path))
    assert genres.names == ["Comedy", "Drama", "Romance"]
    assert genres.primary.tolist() == [0, 1]


def test_recbole_item_file_beside_the_inter_file(tmp_path: Path) -> None:
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    write(tmp_path / "ml.inter", header + "7\t10\t4\t100\n3\t20\t5\t500\n")
    items = (
        "item_id:token\tmovie_title:token_seq\tclass:token_seq\n10\tTen\tWar Action\n20\tTwenty\tunknown\n"
    )
    write(tmp_path / "ml.item", items)
    genres = load_movielens_genres(tmp_path, load_movielens(tmp_path))
    assert genres.names == ["Action", "War"]
    assert genres.matrix.tolist() == [[True, True], [False, False]]
    assert genres.primary.tolist() == [1, -1]


def test_missing_genre_file_names_it(tmp_path: Path) -> None:
    write(tmp_path / "ratings.csv", RATINGS_CSV)
    with pytest.raises(LogError, match=r"movies\.csv"):
        load_movielens_genres(tmp_path, load_movielens(tmp_path))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("u.item", "10|Ten|||\n", "expected 24 fields"),
        ("u.item", u_item_line(10, [2] * 19), "must be 0 or 1"),
        ("u.item", u_item_line(10, [0] * 19) + u_item_line(10, [0] * 19), "10 is listed more than once"),
        ("u.genre", "Action\n", "'name|index'"),
        ("u.item", "", "no data rows"),
    ],
    ids=["fields", "flags", "duplicate", "u.genre", "empty"],
)
def test_malformed_genre_file_raises_log_error(tmp_path: Path, name: str, text: str, message: str) -> None:
    write(tmp_path / "u.data", UDATA)
    write(tmp_path / "u.item", u_item_line(10, [0] * 19))
    write(tmp_path / name, text)
    with pytest.raises(LogError, match=message) as error:
        load_movielens_genres(tmp_path, load_movielens(tmp_path))
    assert name in str(error.value)

"""Task books and data (任务书, 赛题数据) for a part of the day, released to the stations from the
part's start (or its reading time), never before."""
